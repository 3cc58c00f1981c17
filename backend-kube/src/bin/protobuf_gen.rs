//! Generates `backend-memory/src/http/protobuf/messages.rs`: the protobuf message tables the
//! memory API server decodes request bodies with, read from the Kubernetes `generated.proto`
//! files of the version the test control plane builds (in the Go module cache after
//! `backend-kube/controlplane/build.sh`).
//!
//! ```text
//! cargo run -p operator-runtime-kube --features testenv --bin protobuf_gen -- backend-memory/src/http/protobuf/messages.rs
//! ```
//!
//! It parses the `generated.proto` of every group version the memory backend serves (and of
//! the apimachinery packages they use), starts from each message with an ObjectMeta
//! `metadata` (the kinds, and the few templates shaped like one), and keeps every message
//! reachable from those. The well-known apimachinery types whose JSON is not their message
//! (Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1, and wrappers
//! marked `+protobuf.nullable=true`) become special field types.
//!
//! A protobuf body carries every non-pointer scalar of the Go struct, zero or not, where the
//! JSON form leaves an `omitempty` zero out: the Go struct tags in the same package say which
//! fields those are (`json:"...,omitempty"` on a non-pointer scalar), and their zero values
//! are dropped when decoding. Messages are sorted by name, so the same sources give the same
//! file byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use operator_runtime_kube::testenv::KUBERNETES_VERSION;

/// (apiVersion of the group version, module, directory of its `generated.proto`).
const GROUP_VERSIONS: &[(&str, &str, &str)] = &[
    ("v1", "api", "core/v1"),
    ("apps/v1", "api", "apps/v1"),
    ("batch/v1", "api", "batch/v1"),
    ("autoscaling/v2", "api", "autoscaling/v2"),
    ("policy/v1", "api", "policy/v1"),
    ("networking.k8s.io/v1", "api", "networking/v1"),
    ("rbac.authorization.k8s.io/v1", "api", "rbac/v1"),
    ("coordination.k8s.io/v1", "api", "coordination/v1"),
    ("events.k8s.io/v1", "api", "events/v1"),
];

/// apimachinery packages the kinds' messages refer to.
const SUPPORT: &[&str] = &["pkg/apis/meta/v1", "pkg/api/resource", "pkg/util/intstr", "pkg/runtime"];

const OBJECT_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Messages whose JSON form is not an object of their fields.
const SPECIAL: &[(&str, &str)] = &[
    ("k8s.io.apimachinery.pkg.apis.meta.v1.Time", "Time"),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime", "MicroTime"),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.Duration", "Duration"),
    ("k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1", "Raw"),
    ("k8s.io.apimachinery.pkg.runtime.RawExtension", "Raw"),
    ("k8s.io.apimachinery.pkg.api.resource.Quantity", "Quantity"),
    ("k8s.io.apimachinery.pkg.util.intstr.IntOrString", "IntOrString"),
];

/// One field of a message as the `.proto` file declares it.
#[derive(Clone, Debug)]
struct Field {
    number: u32,
    name: String,
    /// Scalar name (`string`, `int32`, ...) or absolute message name.
    ty: String,
    repeated: bool,
    /// For a `map<string, V>`: V (scalar or absolute message name); `ty` is then unused.
    map_value: Option<String>,
    /// A non-pointer `omitempty` Go field: its zero value is not in the JSON form.
    omit_zero: bool,
    /// An embedded Go struct tagged `json:",inline"`: its fields are the parent's in JSON.
    inline: bool,
}

#[derive(Clone, Debug, Default)]
struct Message {
    fields: Vec<Field>,
    /// `+protobuf.nullable=true`: a Go slice type wrapped in a message; its JSON is the
    /// array of its `items`.
    items_wrapper: bool,
}

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: protobuf_gen <output .rs>");
        return ExitCode::FAILURE;
    };
    match run(Path::new(&out)) {
        Ok(count) => {
            println!("wrote {count} messages to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("protobuf_gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn module_cache() -> Result<PathBuf, String> {
    let out = Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .map_err(|e| format!("go env GOMODCACHE: {e}"))?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if path.is_empty() {
        return Err("go env GOMODCACHE printed nothing".into());
    }
    Ok(PathBuf::from(path))
}

fn run(out: &Path) -> Result<usize, String> {
    let cache = module_cache()?;
    // Kubernetes v1.x.y is published as the staging modules v0.x.y.
    let staging = KUBERNETES_VERSION.replacen("v1.", "v0.", 1);
    let mut messages = BTreeMap::new();
    let mut packages = BTreeMap::new();
    let mut files: Vec<(Option<&str>, PathBuf)> = GROUP_VERSIONS
        .iter()
        .map(|(gv, module, dir)| {
            (
                Some(*gv),
                cache.join(format!("k8s.io/{module}@{staging}/{dir}/generated.proto")),
            )
        })
        .collect();
    files.extend(SUPPORT.iter().map(|dir| {
        (
            None,
            cache.join(format!("k8s.io/apimachinery@{staging}/{dir}/generated.proto")),
        )
    }));
    for (group_version, file) in &files {
        let package = load(file, &mut messages)?;
        if let Some(gv) = group_version {
            packages.insert((*gv).to_owned(), package);
        }
    }
    // Roots: every message of a served group version with an ObjectMeta `metadata`.
    let mut keep = BTreeSet::new();
    let mut todo: Vec<String> = messages
        .iter()
        .filter(|(name, m)| {
            packages
                .values()
                .any(|p| name.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('.')))
                && m.fields.iter().any(|f| f.name == "metadata" && f.ty == OBJECT_META)
        })
        .map(|(name, _)| name.clone())
        .collect();
    while let Some(name) = todo.pop() {
        if !keep.insert(name.clone()) || SPECIAL.iter().any(|(s, _)| *s == name) {
            continue;
        }
        if !messages.contains_key(&name) {
            // A message of another package (an alpha type a Pod field refers to): load it.
            let package = name.rsplit_once('.').map_or("", |(p, _)| p);
            let file = match package.strip_prefix("k8s.io.api.") {
                Some(dir) => cache.join(format!(
                    "k8s.io/api@{staging}/{}/generated.proto",
                    dir.replace('.', "/")
                )),
                None => {
                    let dir = package
                        .strip_prefix("k8s.io.apimachinery.")
                        .ok_or_else(|| format!("no file for {name}"))?;
                    cache.join(format!(
                        "k8s.io/apimachinery@{staging}/{}/generated.proto",
                        dir.replace('.', "/")
                    ))
                }
            };
            load(&file, &mut messages)?;
        }
        let message = messages
            .get(&name)
            .ok_or_else(|| format!("message {name} is not in the parsed files"))?;
        for f in &message.fields {
            let ty = f.map_value.as_ref().unwrap_or(&f.ty);
            if ty.contains('.') && !keep.contains(ty) {
                todo.push(ty.clone());
            }
        }
    }
    keep.retain(|n| !SPECIAL.iter().any(|(s, _)| s == n));
    let index: BTreeMap<&str, usize> = keep.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let ty_of = |ty: &str| -> Result<String, String> {
        Ok(match ty {
            "string" => "Ty::Str".into(),
            "bool" => "Ty::Bool".into(),
            "int32" | "int64" => "Ty::Int".into(),
            "bytes" => "Ty::Bytes".into(),
            "double" => "Ty::Double".into(),
            other => match SPECIAL.iter().find(|(s, _)| *s == other) {
                Some((_, special)) => format!("Ty::{special}"),
                None => match messages.get(other) {
                    Some(m) if m.items_wrapper => {
                        let item = m.fields.first().map(|f| f.ty.as_str()).unwrap_or("string");
                        if item != "string" {
                            return Err(format!("{other}: a wrapper of {item}"));
                        }
                        "Ty::StrItems".into()
                    }
                    _ => format!(
                        "Ty::Msg({})",
                        index.get(other).ok_or_else(|| format!("unknown type {other}"))?
                    ),
                },
            },
        })
    };

    let mut src = String::new();
    let _ = writeln!(
        src,
        "//! Generated by `cargo run -p operator-runtime-kube --features testenv --bin protobuf_gen -- \
         backend-memory/src/http/protobuf/messages.rs`\n//! from the `generated.proto` files of Kubernetes \
         {KUBERNETES_VERSION}. Do not edit.\n\nuse super::{{Cardinality::*, Message, Ty, field}};\n"
    );
    let _ = writeln!(src, "/// The package of each served group version's messages.");
    let _ = writeln!(src, "pub(super) const PACKAGES: &[(&str, &str)] = &[");
    for (gv, package) in &packages {
        let _ = writeln!(src, "    ({gv:?}, {package:?}),");
    }
    let _ = writeln!(src, "];\n");
    let _ = writeln!(
        src,
        "/// Every message, sorted by name; `Ty::Msg(i)` refers to `MESSAGES[i]`."
    );
    let _ = writeln!(src, "pub(super) const MESSAGES: &[Message] = &[");
    for name in &keep {
        let message = &messages[name];
        let _ = writeln!(src, "    Message {{\n        name: {name:?},\n        fields: &[");
        for f in &message.fields {
            let (ty, card) = match &f.map_value {
                Some(v) => (ty_of(v)?, "Map"),
                None if f.inline => (ty_of(&f.ty)?, "Inline"),
                None if f.repeated => (ty_of(&f.ty)?, "Repeated"),
                None => (ty_of(&f.ty)?, "One"),
            };
            let _ = writeln!(
                src,
                "            field({}, {:?}, {ty}, {card}, {}),",
                f.number, f.name, f.omit_zero
            );
        }
        let _ = writeln!(src, "        ],\n    }},");
    }
    let _ = writeln!(src, "];");
    std::fs::write(out, src).map_err(|e| format!("{}: {e}", out.display()))?;
    let status = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .arg(out)
        .status()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !status.success() {
        return Err("rustfmt failed".into());
    }
    Ok(keep.len())
}

/// Parses one `generated.proto` and the Go struct tags of its package into `messages`;
/// returns its package.
fn load(file: &Path, messages: &mut BTreeMap<String, Message>) -> Result<String, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: {e} (build the control plane first)", file.display()))?;
    let mut parsed = BTreeMap::new();
    let package = parse(&text, &mut parsed)?;
    let dir = file.parent().ok_or("a file without a directory")?;
    let (omit, inline) = go_tags(dir)?;
    for (name, mut message) in parsed {
        let short = name.rsplit('.').next().unwrap_or_default();
        for f in &mut message.fields {
            let key = (short.to_owned(), f.number);
            f.omit_zero = omit.contains(&key);
            f.inline = inline.contains(&key);
        }
        messages.insert(name, message);
    }
    Ok(package)
}

/// Parses one `generated.proto` into `messages` (absolute names); returns its package.
fn parse(text: &str, messages: &mut BTreeMap<String, Message>) -> Result<String, String> {
    let mut package = String::new();
    let mut current: Option<(String, Message)> = None;
    let mut nullable = false;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix("//") {
            nullable |= comment.trim() == "+protobuf.nullable=true";
            continue;
        }
        if let Some(p) = line.strip_prefix("package ") {
            package = p.trim_end_matches(';').to_owned();
        } else if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.trim_end_matches('{').trim();
            current = Some((
                format!("{package}.{name}"),
                Message {
                    items_wrapper: nullable,
                    ..Message::default()
                },
            ));
        } else if line == "}" {
            if let Some((name, message)) = current.take() {
                messages.insert(name, message);
            }
        } else if let Some((name, message)) = current.as_mut()
            && !line.is_empty()
        {
            let field = field(line, &package).ok_or_else(|| format!("{name}: cannot parse `{line}`"))?;
            message.fields.push(field);
        }
        if !line.is_empty() && !line.starts_with("//") {
            nullable = false;
        }
    }
    Ok(package)
}

/// One field line: `optional T name = N;`, `repeated T name = N;` or `map<K, V> name = N;`.
fn field(line: &str, package: &str) -> Option<Field> {
    let line = line.strip_suffix(';')?;
    let (decl, number) = line.rsplit_once('=')?;
    let number: u32 = number.trim().parse().ok()?;
    let absolute = |ty: &str| -> String {
        match ty.strip_prefix('.') {
            Some(abs) => abs.to_owned(),
            None if ty.chars().next().is_some_and(char::is_uppercase) => format!("{package}.{ty}"),
            None => ty.to_owned(),
        }
    };
    if let Some(rest) = decl.strip_prefix("map<") {
        let (types, name) = rest.split_once('>')?;
        let (_, value) = types.split_once(',')?;
        return Some(Field {
            number,
            name: name.trim().to_owned(),
            ty: String::new(),
            repeated: false,
            map_value: Some(absolute(value.trim())),
            omit_zero: false,
            inline: false,
        });
    }
    let mut words = decl.split_whitespace();
    let label = words.next()?;
    let ty = words.next()?;
    let name = words.next()?;
    Some(Field {
        number,
        name: name.to_owned(),
        ty: absolute(ty),
        repeated: label == "repeated",
        map_value: None,
        omit_zero: false,
        inline: false,
    })
}

/// (struct, protobuf field number) pairs from the Go types of a package (every non-generated
/// `.go` file in `dir`): the fields whose zero value the JSON form leaves out (non-pointer
/// values tagged `omitempty`, Times only with `omitzero`), and the embedded structs inlined.
type GoTags = (BTreeSet<(String, u32)>, BTreeSet<(String, u32)>);

fn go_tags(dir: &Path) -> Result<GoTags, String> {
    let mut out = BTreeSet::new();
    let mut inline = BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".go")
            || name.ends_with("_test.go")
            || name.starts_with("zz_generated")
            || name.starts_with("generated")
        {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).map_err(|e| format!("{name}: {e}"))?;
        let mut current: Option<String> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("type ")
                && let Some(name) = rest.strip_suffix(" struct {")
            {
                current = Some(name.trim().to_owned());
                continue;
            }
            if line == "}" {
                current = None;
                continue;
            }
            let Some(strukt) = &current else { continue };
            let Some((decl, tags)) = line.trim().split_once('`') else {
                continue;
            };
            let words: Vec<&str> = decl.split_whitespace().collect();
            // An embedded struct has one word: its type is its name.
            let (embedded, ty) = match words.as_slice() {
                [ty] => (true, *ty),
                [_, ty, ..] => (false, *ty),
                [] => continue,
            };
            let tag = |key: &str| {
                tags.split_once(&format!("{key}:\""))
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(value, _)| value.to_owned())
            };
            let (Some(json), Some(proto)) = (tag("json"), tag("protobuf")) else {
                continue;
            };
            let Some(number) = proto.split(',').nth(1).and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // encoding/json inlines an embedded struct whose tag names no field.
            if json.split(',').next() == Some("") && (embedded || json.split(',').any(|o| o == "inline")) {
                inline.insert((strukt.clone(), number));
                continue;
            }
            let options: Vec<&str> = json.split(',').skip(1).collect();
            let value = !ty.starts_with('*') && !ty.starts_with("[]") && !ty.starts_with("map[");
            // encoding/json prints a zero Time as `null` under `omitempty`; only `omitzero`
            // leaves it out.
            let time = ty.ends_with("Time");
            if options.contains(&"omitzero") || (options.contains(&"omitempty") && value && !time) {
                out.insert((strukt.clone(), number));
            }
        }
    }
    Ok((out, inline))
}
