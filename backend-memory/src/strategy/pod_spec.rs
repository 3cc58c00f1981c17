//! Pod spec validation shared by every kind that embeds one: `ValidatePodSpec`,
//! `ValidatePodTemplateSpec` and the container, volume, resource and toleration rules they
//! call (`k8s.io/kubernetes/pkg/apis/core/validation`, 1.37.2), over the defaulted JSON body.
//! Messages are printed as Go's `field.Error` prints them.
//!
//! Not ported (accepted as they are): probes, lifecycle hooks, security contexts, affinity,
//! DNS config, topology spread constraints, resource claims, ephemeral containers' own rules,
//! envFrom, volume devices and the volume sources other than emptyDir, configMap, secret,
//! hostPath and persistentVolumeClaim (their count is still checked).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use operator_runtime_core::quantity::Quantity;
use serde_json::Value;

use crate::validation::Causes;

/// `math.MaxInt32`, the bound of `activeDeadlineSeconds` and user ids.
pub(crate) const MAX_INT32: i64 = 2_147_483_647;

// ---- JSON access (absent and `null` are Go's zero value) ----

/// `value[key]` unless absent or `null`.
pub(crate) fn present<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// `value[key]` as a string, "" when absent or not a string.
pub(crate) fn str_at<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `value[key]` as an integer.
pub(crate) fn int_at(value: &Value, key: &str) -> Option<i64> {
    value.get(key).and_then(Value::as_i64)
}

/// `value[key]` as a list (empty when absent).
pub(crate) fn list_at<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

// ---- field.Error printers the `Causes` helpers do not cover ----

/// A string bad value as `%q` prints it.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `field.Invalid` with an integer bad value (printed bare).
pub(crate) fn invalid_int(causes: &mut Causes, field: &str, value: i64, detail: &str) {
    causes.push("FieldValueInvalid", field, format!("Invalid value: {value}: {detail}"));
}

/// `field.Invalid` with a bad value printed as JSON (structs, lists, `null`).
pub(crate) fn invalid_json(causes: &mut Causes, field: &str, value: &str, detail: &str) {
    causes.push("FieldValueInvalid", field, format!("Invalid value: {value}: {detail}"));
}

/// `field.NotSupported` with a string value; `supported` in the order Go lists them.
pub(crate) fn not_supported(causes: &mut Causes, field: &str, value: &str, supported: &[&str]) {
    let list: Vec<String> = supported.iter().map(|s| quote(s)).collect();
    causes.push(
        "FieldValueNotSupported",
        field,
        format!(
            "Unsupported value: {}: supported values: {}",
            quote(value),
            list.join(", ")
        ),
    );
}

/// `field.Duplicate` with a string value.
pub(crate) fn duplicate(causes: &mut Causes, field: &str, value: &str) {
    causes.push(
        "FieldValueDuplicate",
        field,
        format!("Duplicate value: {}", quote(value)),
    );
}

/// `field.NotFound` with a string value.
fn not_found(causes: &mut Causes, field: &str, value: &str) {
    causes.push("FieldValueNotFound", field, format!("Not found: {}", quote(value)));
}

/// `field.Invalid` with a string value, `%q`-quoted.
fn invalid_str(causes: &mut Causes, field: &str, value: &str, detail: &str) {
    causes.push(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {}: {detail}", quote(value)),
    );
}

// ---- apimachinery's name rules, with their Go messages ----

/// `validation.RegexError` with examples.
fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    let mut out = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{example}', "));
    }
    out.push_str(&format!("regex used for validation is '{regex}')"));
    out
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

/// `IsDNS1123Label`'s messages.
pub(crate) fn dns1123_label_msgs(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if value.len() > 63 {
        msgs.push("must be no more than 63 characters".to_owned());
    }
    if !is_label_shape_unbounded(value) {
        if is_subdomain_shape(value) {
            // A valid subdomain that is no label: it has dots.
            msgs.push("must not contain dots".to_owned());
        } else {
            msgs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    msgs
}

/// The label regex without the length limit.
fn is_label_shape_unbounded(value: &str) -> bool {
    let b = value.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.first().is_some_and(alnum) && b.last().is_some_and(alnum) && b.iter().all(|c| alnum(c) || *c == b'-')
}

/// The subdomain regex without the length limit.
fn is_subdomain_shape(value: &str) -> bool {
    !value.is_empty() && value.split('.').all(is_label_shape_unbounded)
}

/// `IsDNS1123Subdomain`'s messages (also `NameIsDNSSubdomain`, which service account, node
/// and priority class names use).
pub(crate) fn dns1123_subdomain_msgs(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if value.len() > 253 {
        msgs.push("must be no more than 253 characters".to_owned());
    }
    if !is_subdomain_shape(value) {
        msgs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["example.com"],
        ));
    }
    msgs
}

/// `ValidateDNS1123Label`.
pub(crate) fn validate_dns1123_label(value: &str, field: &str, causes: &mut Causes) {
    for msg in dns1123_label_msgs(value) {
        invalid_str(causes, field, value, &msg);
    }
}

const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn is_label_token(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `content.IsLabelKey` (= `IsQualifiedName`)'s messages.
pub(crate) fn label_key_msgs(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                msgs.push("prefix part must be non-empty".to_owned());
            } else {
                for msg in dns1123_subdomain_msgs(prefix) {
                    // `content.MaxLenError` counts bytes.
                    let msg = if msg.starts_with("must be no more than") {
                        msg.replace("characters", "bytes")
                    } else {
                        msg
                    };
                    msgs.push(format!("prefix part {msg}"));
                }
            }
            *name
        }
        _ => {
            msgs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return msgs;
        }
    };
    if name.is_empty() {
        msgs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        msgs.push("name part must be no more than 63 bytes".to_owned());
    }
    if !is_label_token(name) {
        msgs.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    msgs
}

/// `content.IsLabelValue`'s messages.
pub(crate) fn label_value_msgs(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if value.len() > 63 {
        msgs.push("must be no more than 63 bytes".to_owned());
    }
    if !value.is_empty() && !is_label_token(value) {
        msgs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            &format!("({LABEL_KEY_FMT})?"),
            &["MyValue", "my_value", "12345"],
        ));
    }
    msgs
}

/// `ValidateLabelName` (`ValidateQualifiedName` has the same rule and messages).
pub(crate) fn validate_label_name(key: &str, field: &str, causes: &mut Causes) {
    for msg in label_key_msgs(key) {
        invalid_str(causes, field, key, &msg);
    }
}

/// `ValidateLabels`: keys and values are reported at the map's own path.
pub(crate) fn validate_labels(labels: Option<&Value>, field: &str, causes: &mut Causes) {
    for (key, value) in labels.and_then(Value::as_object).into_iter().flatten() {
        validate_label_name(key, field, causes);
        let value = value.as_str().unwrap_or("");
        for msg in label_value_msgs(value) {
            invalid_str(causes, field, value, &msg);
        }
    }
}

/// `IsValidPortName`'s messages.
fn port_name_msgs(name: &str) -> Vec<&'static str> {
    let mut msgs = Vec::new();
    if name.len() > 15 {
        msgs.push("must be no more than 15 characters");
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        msgs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if !name.bytes().any(|c| c.is_ascii_lowercase()) {
        msgs.push("must contain at least one letter (a-z)");
    }
    if name.contains("--") {
        msgs.push("must not contain consecutive hyphens");
    }
    if name.starts_with('-') || name.ends_with('-') {
        msgs.push("must not begin or end with a hyphen");
    }
    msgs
}

const PORT_RANGE: &str = "must be between 1 and 65535, inclusive";

// ---- ValidatePodSpec ----

/// What differs between a Pod's own spec and a spec embedded in a template.
#[derive(Clone, Copy)]
pub(crate) struct SpecContext {
    /// `opts.ResourceIsPod`: a host-network pod's host ports must equal its container ports
    /// (a template may leave them 0, they are defaulted on the pod).
    pub resource_is_pod: bool,
}

/// `ValidatePodTemplateSpec` of the template at `path` (`spec.template`): its labels and
/// annotations, `ValidatePodSpec` of its spec, and no ephemeral containers. The owning kind
/// adds its own rules (restart policy, selector match).
pub(crate) fn validate_pod_template(template: &Value, path: &str, causes: &mut Causes) {
    let metadata = template.get("metadata");
    validate_labels(
        metadata.and_then(|m| m.get("labels")),
        &format!("{path}.labels"),
        causes,
    );
    let null = Value::Null;
    let spec = template.get("spec").unwrap_or(&null);
    let spec_path = format!("{path}.spec");
    validate_pod_spec(spec, &spec_path, causes);
    if !list_at(spec, "ephemeralContainers").is_empty() {
        causes.forbidden(
            &format!("{spec_path}.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        );
    }
}

/// `ValidatePodSpec` of a spec embedded in another kind (a pod template's), at `path`.
pub(crate) fn validate_pod_spec(spec: &Value, path: &str, causes: &mut Causes) {
    validate_spec(spec, path, SpecContext { resource_is_pod: false }, causes);
}

/// `ValidatePodSpec`, in Go's order.
pub(crate) fn validate_spec(spec: &Value, path: &str, ctx: SpecContext, causes: &mut Causes) {
    if present(spec, "terminationGracePeriodSeconds").is_none() {
        causes.required(&format!("{path}.terminationGracePeriodSeconds"), "");
    }
    let volumes = validate_volumes(list_at(spec, "volumes"), &format!("{path}.volumes"), causes);
    let restart_policy = str_at(spec, "restartPolicy");
    let containers = list_at(spec, "containers");
    let init_containers = list_at(spec, "initContainers");
    validate_containers(containers, &volumes, &format!("{path}.containers"), causes);
    validate_init_containers(
        init_containers,
        containers,
        &volumes,
        &format!("{path}.initContainers"),
        causes,
    );
    // PodLevelResources is on by default: the pod-level requirements get the quantity rules.
    if let Some(resources) = present(spec, "resources") {
        validate_quantities(resources, &format!("{path}.resources"), false, causes);
    }
    validate_host_network_ports(spec, path, ctx, causes);
    match restart_policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => causes.required(&format!("{path}.restartPolicy"), ""),
        other => not_supported(
            causes,
            &format!("{path}.restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        ),
    }
    match str_at(spec, "dnsPolicy") {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => causes.required(&format!("{path}.dnsPolicy"), ""),
        other => not_supported(
            causes,
            &format!("{path}.dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
    validate_labels(spec.get("nodeSelector"), &format!("{path}.nodeSelector"), causes);
    for (field, go_field) in [("serviceAccountName", "serviceAccountName"), ("nodeName", "nodeName")] {
        let value = str_at(spec, field);
        if !value.is_empty() {
            for msg in dns1123_subdomain_msgs(value) {
                invalid_str(causes, &format!("{path}.{go_field}"), value, &msg);
            }
        }
    }
    if let Some(deadline) = int_at(spec, "activeDeadlineSeconds")
        && !(1..=MAX_INT32).contains(&deadline)
    {
        invalid_int(
            causes,
            &format!("{path}.activeDeadlineSeconds"),
            deadline,
            &format!("must be between 1 and {MAX_INT32}, inclusive"),
        );
    }
    for field in ["hostname", "subdomain"] {
        let value = str_at(spec, field);
        if !value.is_empty() {
            validate_dns1123_label(value, &format!("{path}.{field}"), causes);
        }
    }
    let tolerations = list_at(spec, "tolerations");
    if !tolerations.is_empty() {
        validate_tolerations(tolerations, &format!("{path}.tolerations"), causes);
    }
    let priority_class = str_at(spec, "priorityClassName");
    if !priority_class.is_empty() {
        for msg in dns1123_subdomain_msgs(priority_class) {
            invalid_str(causes, &format!("{path}.priorityClassName"), priority_class, &msg);
        }
    }
    if let Some(policy) = present(spec, "preemptionPolicy") {
        match policy.as_str().unwrap_or("") {
            "PreemptLowerPriority" | "Never" => {}
            "" => causes.required(&format!("{path}.preemptionPolicy"), ""),
            // The bad value is a *PreemptionPolicy: printed as JSON, which is the same text.
            other => not_supported(
                causes,
                &format!("{path}.preemptionPolicy"),
                other,
                &["PreemptLowerPriority", "Never"],
            ),
        }
    }
}

/// `validatePodHostNetworkDeps`.
fn validate_host_network_ports(spec: &Value, path: &str, ctx: SpecContext, causes: &mut Causes) {
    if spec.get("hostNetwork").and_then(Value::as_bool) != Some(true) {
        return;
    }
    for (i, container) in list_at(spec, "containers").iter().enumerate() {
        for (j, port) in list_at(container, "ports").iter().enumerate() {
            let host = int_at(port, "hostPort").unwrap_or(0);
            let container_port = int_at(port, "containerPort").unwrap_or(0);
            if (ctx.resource_is_pod || host != 0) && host != container_port {
                invalid_int(
                    causes,
                    &format!("{path}.containers[{i}].ports[{j}].hostPort"),
                    host,
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }
}

// ---- volumes ----

/// The volume sources of `core.VolumeSource` in the order `validateVolumeSource` checks
/// them, with the path segment its "more than 1 volume type" error names (Go's spelling,
/// typos included).
const VOLUME_SOURCES: &[(&str, &str)] = &[
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
];

const FILE_MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// `ValidateVolumes`: each volume's source, its name (a unique DNS label). Returns the names
/// of the volumes that validated (what volume mounts may name).
fn validate_volumes(volumes: &[Value], path: &str, causes: &mut Causes) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, volume) in volumes.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = str_at(volume, "name");
        let mut errs = Causes::default();
        validate_volume_source(volume, &idx, &mut errs);
        let name_path = format!("{idx}.name");
        if name.is_empty() {
            errs.required(&name_path, "");
        } else {
            validate_dns1123_label(name, &name_path, &mut errs);
        }
        if names.contains(name) {
            duplicate(&mut errs, &name_path, name);
        }
        if errs.is_empty() {
            names.insert(name.to_owned());
        } else {
            causes.extend(errs);
        }
    }
    names
}

/// `validateVolumeSource`: exactly one source, and the rules of the common ones.
fn validate_volume_source(volume: &Value, path: &str, causes: &mut Causes) {
    let mut count = 0;
    for (key, segment) in VOLUME_SOURCES {
        let Some(source) = present(volume, key) else {
            continue;
        };
        if count > 0 {
            causes.forbidden(&format!("{path}.{segment}"), "may not specify more than 1 volume type");
            continue;
        }
        count += 1;
        let at = format!("{path}.{key}");
        match *key {
            "emptyDir" => {
                if let Some(limit) = source
                    .get("sizeLimit")
                    .and_then(Value::as_str)
                    .and_then(|q| Quantity::parse(q).ok())
                    && is_negative(&limit)
                {
                    causes.forbidden(
                        &format!("{at}.sizeLimit"),
                        "SizeLimit field must be a valid resource quantity",
                    );
                }
            }
            "hostPath" => {
                let host_path = str_at(source, "path");
                if host_path.is_empty() {
                    causes.required(&format!("{at}.path"), "");
                } else {
                    if host_path.split('/').any(|part| part == "..") {
                        invalid_str(causes, &format!("{at}.path"), host_path, "must not contain '..'");
                    }
                    if let Some(kind) = source.get("type").and_then(Value::as_str) {
                        const TYPES: [&str; 8] = [
                            "",
                            "BlockDevice",
                            "CharDevice",
                            "Directory",
                            "DirectoryOrCreate",
                            "File",
                            "FileOrCreate",
                            "Socket",
                        ];
                        if !TYPES.contains(&kind) {
                            not_supported(causes, &format!("{at}.type"), kind, &TYPES);
                        }
                    }
                }
            }
            "secret" | "configMap" => {
                let name_key = if *key == "secret" { "secretName" } else { "name" };
                if str_at(source, name_key).is_empty() {
                    causes.required(&format!("{at}.{name_key}"), "");
                }
                if let Some(mode) = int_at(source, "defaultMode")
                    && !(0..=0o777).contains(&mode)
                {
                    invalid_int(causes, &format!("{at}.defaultMode"), mode, FILE_MODE_MSG);
                }
                for (j, item) in list_at(source, "items").iter().enumerate() {
                    validate_key_to_path(item, &format!("{at}.items[{j}]"), causes);
                }
            }
            "persistentVolumeClaim" if str_at(source, "claimName").is_empty() => {
                causes.required(&format!("{at}.claimName"), "");
            }
            _ => {}
        }
    }
    if count == 0 {
        causes.required(path, "must specify a volume type");
    }
}

/// `validateKeyToPath` of a configMap or secret volume item.
fn validate_key_to_path(item: &Value, path: &str, causes: &mut Causes) {
    if str_at(item, "key").is_empty() {
        causes.required(&format!("{path}.key"), "");
    }
    let target = str_at(item, "path");
    let target_path = format!("{path}.path");
    if target.is_empty() {
        causes.required(&target_path, "");
    }
    validate_local_descending_path(target, &target_path, causes);
    if target.starts_with("..") && !target.starts_with("../") {
        invalid_str(causes, &target_path, target, "must not start with '..'");
    }
    if let Some(mode) = int_at(item, "mode")
        && !(0..=0o777).contains(&mode)
    {
        invalid_int(causes, &format!("{path}.mode"), mode, FILE_MODE_MSG);
    }
}

/// `validateLocalDescendingPath`: relative, without `..` elements.
fn validate_local_descending_path(target: &str, path: &str, causes: &mut Causes) {
    if target.starts_with('/') {
        invalid_str(causes, path, target, "must be a relative path");
    }
    if target.split('/').any(|part| part == "..") {
        invalid_str(causes, path, target, "must not contain '..'");
    }
}

// ---- containers ----

/// `validateContainers`: at least one, the common rules, unique names, the container restart
/// policy, and no host port used twice.
fn validate_containers(containers: &[Value], volumes: &BTreeSet<String>, path: &str, causes: &mut Causes) {
    if containers.is_empty() {
        causes.required(path, "");
        return;
    }
    let mut names = BTreeSet::new();
    for (i, container) in containers.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        validate_container_common(container, volumes, &idx, causes);
        let name = str_at(container, "name");
        if !names.insert(name) {
            duplicate(causes, &format!("{idx}.name"), name);
        }
        // ContainerRestartRules is on by default: `validateContainerRestartPolicy`.
        validate_container_restart_policy(container, &idx, causes);
    }
    check_host_port_conflicts(containers, path, causes);
}

/// `validateInitContainers`: the common rules, names unique across init and regular
/// containers, host ports per container, and no probes or lifecycle on a non-sidecar.
fn validate_init_containers(
    containers: &[Value],
    regular: &[Value],
    volumes: &BTreeSet<String>,
    path: &str,
    causes: &mut Causes,
) {
    let mut names: BTreeSet<&str> = regular.iter().map(|c| str_at(c, "name")).collect();
    for (i, container) in containers.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        validate_container_common(container, volumes, &idx, causes);
        let policy = present(container, "restartPolicy").map(|p| p.as_str().unwrap_or(""));
        let has_rules = !list_at(container, "restartPolicyRules").is_empty();
        match policy {
            None if has_rules => causes.required(
                &format!("{idx}.restartPolicy"),
                "must specify restartPolicy when restart rules are used",
            ),
            Some("Always") if has_rules => causes.forbidden(
                &format!("{idx}.restartPolicyRules"),
                "restartPolicyRules are not allowed for init containers with restart policy Always",
            ),
            None | Some("Always") => {}
            Some(_) => validate_container_restart_policy(container, &idx, causes),
        }
        let name = str_at(container, "name");
        if names.contains(name) {
            duplicate(causes, &format!("{idx}.name"), name);
        } else if !name.is_empty() {
            names.insert(name);
        }
        check_host_port_conflicts(std::slice::from_ref(container), path, causes);
        if policy != Some("Always") {
            for field in ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"] {
                if present(container, field).is_some() {
                    causes.forbidden(
                        &format!("{idx}.{field}"),
                        "may not be set for init containers without restartPolicy=Always",
                    );
                }
            }
        }
    }
}

/// `validateContainerRestartPolicy` without the restart rules' own checks.
fn validate_container_restart_policy(container: &Value, idx: &str, causes: &mut Causes) {
    let field = format!("{idx}.restartPolicy");
    match present(container, "restartPolicy") {
        None if !list_at(container, "restartPolicyRules").is_empty() => {
            causes.required(&field, "must specify restartPolicy when restart rules are used");
        }
        None => {}
        Some(policy) => {
            let policy = policy.as_str().unwrap_or("");
            if !matches!(policy, "Always" | "Never" | "OnFailure") {
                not_supported(causes, &field, policy, &["Always", "Never", "OnFailure"]);
            }
        }
    }
}

/// `validateContainerCommon`: name, image, termination message policy, ports, env, volume
/// mounts, pull policy and resources.
fn validate_container_common(container: &Value, volumes: &BTreeSet<String>, idx: &str, causes: &mut Causes) {
    let name = str_at(container, "name");
    let name_path = format!("{idx}.name");
    if name.is_empty() {
        causes.required(&name_path, "");
    } else {
        validate_dns1123_label(name, &name_path, causes);
    }
    if str_at(container, "image").is_empty() {
        causes.required(&format!("{idx}.image"), "");
    }
    match str_at(container, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => causes.required(&format!("{idx}.terminationMessagePolicy"), ""),
        other => not_supported(
            causes,
            &format!("{idx}.terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        ),
    }
    validate_container_ports(list_at(container, "ports"), &format!("{idx}.ports"), causes);
    validate_env(list_at(container, "env"), &format!("{idx}.env"), causes);
    validate_volume_mounts(
        list_at(container, "volumeMounts"),
        volumes,
        &format!("{idx}.volumeMounts"),
        causes,
    );
    match str_at(container, "imagePullPolicy") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => causes.required(&format!("{idx}.imagePullPolicy"), ""),
        other => not_supported(
            causes,
            &format!("{idx}.imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        ),
    }
    if let Some(resources) = present(container, "resources") {
        validate_quantities(resources, &format!("{idx}.resources"), true, causes);
    }
}

/// `validateContainerPorts`.
fn validate_container_ports(ports: &[Value], path: &str, causes: &mut Causes) {
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = str_at(port, "name");
        if !name.is_empty() {
            let msgs = port_name_msgs(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    invalid_str(causes, &format!("{idx}.name"), name, msg);
                }
            } else if !names.insert(name) {
                duplicate(causes, &format!("{idx}.name"), name);
            }
        }
        match int_at(port, "containerPort").unwrap_or(0) {
            0 => causes.required(&format!("{idx}.containerPort"), ""),
            n if !(1..=65535).contains(&n) => invalid_int(causes, &format!("{idx}.containerPort"), n, PORT_RANGE),
            _ => {}
        }
        let host = int_at(port, "hostPort").unwrap_or(0);
        if host != 0 && !(1..=65535).contains(&host) {
            invalid_int(causes, &format!("{idx}.hostPort"), host, PORT_RANGE);
        }
        match str_at(port, "protocol") {
            "" => causes.required(&format!("{idx}.protocol"), ""),
            "TCP" | "UDP" | "SCTP" => {}
            other => not_supported(causes, &format!("{idx}.protocol"), other, &["SCTP", "TCP", "UDP"]),
        }
    }
}

/// `AccumulateUniqueHostPorts` over `containers`.
fn check_host_port_conflicts(containers: &[Value], path: &str, causes: &mut Causes) {
    let mut seen = BTreeSet::new();
    for (i, container) in containers.iter().enumerate() {
        for (j, port) in list_at(container, "ports").iter().enumerate() {
            let host = int_at(port, "hostPort").unwrap_or(0);
            if host == 0 {
                continue;
            }
            let key = format!("{}/{}/{host}", str_at(port, "protocol"), str_at(port, "hostIP"));
            if seen.contains(&key) {
                duplicate(causes, &format!("{path}[{i}].ports[{j}].hostPort"), &key);
            } else {
                seen.insert(key);
            }
        }
    }
}

/// `ValidateEnv` (relaxed names, GA): a name of printable ASCII without `=`, and at most one
/// `valueFrom` source, not together with `value`.
fn validate_env(vars: &[Value], path: &str, causes: &mut Causes) {
    for (i, var) in vars.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = str_at(var, "name");
        if name.is_empty() {
            causes.required(&format!("{idx}.name"), "");
        } else if name.chars().any(|c| !c.is_ascii() || c.is_ascii_control() || c == '=') {
            invalid_str(
                causes,
                &format!("{idx}.name"),
                name,
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            );
        }
        let Some(value_from) = present(var, "valueFrom") else {
            continue;
        };
        let sources = [
            "fieldRef",
            "resourceFieldRef",
            "configMapKeyRef",
            "secretKeyRef",
            "fileKeyRef",
        ]
        .iter()
        .filter(|k| present(value_from, k).is_some())
        .count();
        let from_path = format!("{idx}.valueFrom");
        if sources == 0 {
            // EnvFiles is beta in 1.37 (on): the message names fileKeyRef too.
            invalid_str(
                causes,
                &from_path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`",
            );
        } else if !str_at(var, "value").is_empty() {
            invalid_str(causes, &from_path, "", "may not be specified when `value` is not empty");
        } else if sources > 1 {
            invalid_str(
                causes,
                &from_path,
                "",
                "may not have more than one field specified at a time",
            );
        }
    }
}

/// `ValidateVolumeMounts`: a name that is a volume of the pod, a unique mount path, and
/// relative sub-paths.
fn validate_volume_mounts(mounts: &[Value], volumes: &BTreeSet<String>, path: &str, causes: &mut Causes) {
    let mut mount_points = BTreeSet::new();
    for (i, mount) in mounts.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let name = str_at(mount, "name");
        if name.is_empty() {
            causes.required(&format!("{idx}.name"), "");
        }
        if !volumes.contains(name) {
            not_found(causes, &format!("{idx}.name"), name);
        }
        let mount_path = str_at(mount, "mountPath");
        if mount_path.is_empty() {
            causes.required(&format!("{idx}.mountPath"), "");
        }
        if !mount_points.insert(mount_path) {
            invalid_str(causes, &format!("{idx}.mountPath"), mount_path, "must be unique");
        }
        // Go names these paths without the index.
        let sub_path = str_at(mount, "subPath");
        if !sub_path.is_empty() {
            validate_local_descending_path(sub_path, &format!("{path}.subPath"), causes);
        }
        let sub_path_expr = str_at(mount, "subPathExpr");
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                invalid_str(
                    causes,
                    &format!("{idx}.subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                );
            }
            validate_local_descending_path(sub_path_expr, &format!("{path}.subPathExpr"), causes);
        }
    }
}

// ---- resources ----

fn is_negative(q: &Quantity) -> bool {
    Quantity::parse("0").is_ok_and(|zero| q.cmp_value(&zero) == Ordering::Less)
}

/// Names in the default (`kubernetes.io`) namespace: unprefixed, or with that domain.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `IsOvercommitAllowed`: native and not huge pages.
fn overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !name.starts_with("hugepages-")
}

/// `ValidateContainerResourceName` (containers) or the name part of `validatePodResourceName`
/// (`container` false: only the qualified-name rule).
fn validate_resource_name(name: &str, field: &str, container: bool, causes: &mut Causes) {
    let msgs = label_key_msgs(name);
    if !msgs.is_empty() {
        for msg in msgs {
            invalid_str(causes, field, name, &msg);
        }
        return;
    }
    if !container {
        return;
    }
    if !name.contains('/') {
        if !matches!(name, "cpu" | "memory" | "ephemeral-storage") && !name.starts_with("hugepages-") {
            invalid_str(causes, field, name, "must be a standard resource for containers");
        }
    } else if !is_native_resource(name)
        && (name.starts_with("requests.") || !label_key_msgs(&format!("requests.{name}")).is_empty())
    {
        invalid_str(causes, field, name, "doesn't follow extended resource name standard");
    }
}

/// `validateResourceRequirements`: valid names, nonnegative quantities (whole numbers for
/// extended resources), a request at most its limit (equal to it for resources that cannot
/// be overcommitted, which need a limit).
fn validate_quantities(resources: &Value, path: &str, container: bool, causes: &mut Causes) {
    let parse = |key: &str| -> Vec<(&str, Option<Quantity>)> {
        resources
            .get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, v)| {
                let q = match v {
                    Value::String(s) => Quantity::parse(s).ok(),
                    Value::Number(n) => Quantity::parse(&n.to_string()).ok(),
                    _ => None,
                };
                (name.as_str(), q)
            })
            .collect()
    };
    let (limits, requests) = (parse("limits"), parse("requests"));
    let limits_path = format!("{path}.limits");
    let requests_path = format!("{path}.requests");
    let check_value = |name: &str, q: &Quantity, field: &str, causes: &mut Causes| {
        if is_negative(q) {
            invalid_str(causes, field, &q.canonical(), "must be greater than or equal to 0");
        }
        // `IsIntegerResourceName`: extended resources (the quota kinds never reach a pod).
        if !is_native_resource(name) && !is_whole(q) {
            causes.push(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {}: must be an integer", quote(&q.canonical())),
            );
        }
    };
    for (name, q) in &limits {
        let field = format!("{limits_path}[{name}]");
        validate_resource_name(name, &field, container, causes);
        if let Some(q) = q {
            check_value(name, q, &field, causes);
        }
    }
    for (name, q) in &requests {
        let field = format!("{requests_path}[{name}]");
        validate_resource_name(name, &field, container, causes);
        let Some(q) = q else { continue };
        check_value(name, q, &field, causes);
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, Some(limit))) => {
                let order = q.cmp_value(limit);
                if order != Ordering::Equal && !overcommit_allowed(name) {
                    invalid_str(
                        causes,
                        &requests_path,
                        &q.canonical(),
                        &format!("must be equal to {name} limit of {}", limit.canonical()),
                    );
                } else if order == Ordering::Greater {
                    invalid_str(
                        causes,
                        &requests_path,
                        &q.canonical(),
                        &format!("must be less than or equal to {name} limit of {}", limit.canonical()),
                    );
                }
            }
            Some((_, None)) => {}
            None if !overcommit_allowed(name) => {
                causes.required(&limits_path, "Limit must be set for non overcommitable resources");
            }
            None => {}
        }
    }
    let has = |list: &[(&str, Option<Quantity>)], f: &dyn Fn(&str) -> bool| list.iter().any(|(n, _)| f(n));
    let compute = |n: &str| n == "cpu" || n == "memory";
    let huge = |n: &str| n.starts_with("hugepages-");
    if !has(&limits, &compute) && !has(&requests, &compute) && (has(&limits, &huge) || has(&requests, &huge)) {
        causes.forbidden(path, "HugePages require cpu or memory");
    }
}

/// Whether a quantity is a whole number (Go: `MilliValue() % 1000 == 0`, the milli value
/// rounded up).
fn is_whole(q: &Quantity) -> bool {
    let mut milli = q.clone();
    milli.round_up_milli();
    milli.approximate_f64().fract() == 0.0
}

// ---- tolerations ----

/// `ValidateTolerations` (the comparison operators are behind a disabled feature gate).
pub(crate) fn validate_tolerations(tolerations: &[Value], path: &str, causes: &mut Causes) {
    for (i, toleration) in tolerations.iter().enumerate() {
        let idx = format!("{path}[{i}]");
        let key = str_at(toleration, "key");
        let operator = str_at(toleration, "operator");
        let value = str_at(toleration, "value");
        let effect = str_at(toleration, "effect");
        if !key.is_empty() {
            validate_label_name(key, &format!("{idx}.key"), causes);
        }
        if key.is_empty() && operator != "Exists" {
            invalid_str(
                causes,
                &format!("{idx}.operator"),
                operator,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            );
        }
        if present(toleration, "tolerationSeconds").is_some() && effect != "NoExecute" {
            invalid_str(
                causes,
                &format!("{idx}.effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            );
        }
        match operator {
            "Equal" | "" => {
                let msgs = label_value_msgs(value);
                if !msgs.is_empty() {
                    invalid_str(causes, &format!("{idx}.operator"), value, &msgs.join(";"));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    invalid_str(
                        causes,
                        &format!("{idx}.operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    );
                }
            }
            "Lt" | "Gt" => not_supported(
                causes,
                &format!("{idx}.operator"),
                operator,
                &["Equal", "Exists", "Lt", "Gt"],
            ),
            other => not_supported(causes, &format!("{idx}.operator"), other, &["Equal", "Exists"]),
        }
        if !effect.is_empty() && !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            not_supported(
                causes,
                &format!("{idx}.effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A defaulted container named `name`, with `extra` fields.
    fn container(name: &str, extra: Value) -> Value {
        let mut c = json!({"name": name, "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                           "terminationMessagePolicy": "File", "resources": {}});
        if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
            c.extend(extra);
        }
        c
    }

    /// A defaulted pod spec with `extra` fields.
    fn spec(extra: Value) -> Value {
        let mut s = json!({"containers": [container("main", json!({}))], "restartPolicy": "Always",
                           "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30});
        if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
            s.extend(extra);
        }
        s
    }

    /// "field: message" of each cause, for a pod's spec (`pod`) or a template's.
    fn errors_as(spec: &Value, pod: bool) -> Vec<String> {
        let mut causes = Causes::default();
        validate_spec(spec, "spec", SpecContext { resource_is_pod: pod }, &mut causes);
        causes
            .into_result("Pod", "p")
            .err()
            .map(|e| {
                e.causes()
                    .iter()
                    .map(|c| format!("{}: {}", c.field, c.message))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn errors(spec: &Value) -> Vec<String> {
        errors_as(spec, true)
    }

    #[test]
    fn label_keys_and_values_use_gos_messages() {
        assert!(label_key_msgs("example.com/role").is_empty());
        assert_eq!(
            label_key_msgs("bad key!"),
            vec![
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        );
        assert_eq!(label_key_msgs("/x"), vec!["prefix part must be non-empty"]);
        assert!(label_key_msgs("a/b/c")[0].starts_with("a valid label key must consist"));
        assert!(label_value_msgs("").is_empty());
        assert_eq!(label_value_msgs("bad value").len(), 1);
        assert_eq!(label_value_msgs(&"v".repeat(64)), vec!["must be no more than 63 bytes"]);
        assert_eq!(dns1123_label_msgs("a.b"), vec!["must not contain dots"]);
    }

    #[test]
    fn a_defaulted_spec_is_valid() {
        assert_eq!(errors(&spec(json!({}))), Vec::<String>::new());
    }

    #[test]
    fn containers_are_required_and_named_uniquely() {
        assert_eq!(
            errors(&spec(json!({"containers": []}))),
            vec!["spec.containers: Required value"]
        );
        let two = json!({"containers": [container("a", json!({})), container("a", json!({}))]});
        assert_eq!(
            errors(&spec(two)),
            vec!["spec.containers[1].name: Duplicate value: \"a\""]
        );
        let bad = json!({"containers": [container("Bad_Name", json!({"image": ""}))]});
        let errs = errors(&spec(bad));
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].starts_with("spec.containers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label")
        );
        assert_eq!(errs[1], "spec.containers[0].image: Required value");
        let init = json!({"initContainers": [container("main", json!({"livenessProbe": {}}))]});
        assert_eq!(
            errors(&spec(init)),
            vec![
                "spec.initContainers[0].name: Duplicate value: \"main\"",
                "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            ]
        );
    }

    #[test]
    fn policies_take_their_supported_values() {
        assert_eq!(
            errors(&spec(json!({"restartPolicy": "Bogus"}))),
            vec![
                "spec.restartPolicy: Unsupported value: \"Bogus\": supported values: \"Always\", \"OnFailure\", \"Never\""
            ]
        );
        assert!(errors(&spec(json!({"restartPolicy": "OnFailure"}))).is_empty());
        let pull = json!({"containers": [container("main", json!({"imagePullPolicy": "Sometimes"}))]});
        assert_eq!(
            errors(&spec(pull)),
            vec![
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
            ]
        );
        let mut no_grace = spec(json!({}));
        no_grace
            .as_object_mut()
            .map(|s| s.remove("terminationGracePeriodSeconds"));
        assert_eq!(
            errors(&no_grace),
            vec!["spec.terminationGracePeriodSeconds: Required value"]
        );
    }

    #[test]
    fn ports_are_in_range_with_known_protocols_and_unique_names() {
        let ports = json!([
            {"containerPort": 8080, "name": "http", "protocol": "TCP"},
            {"containerPort": 0, "name": "http", "protocol": "TCP"},
            {"containerPort": 70000, "protocol": "ICMP"},
        ]);
        assert_eq!(
            errors(&spec(
                json!({"containers": [container("main", json!({"ports": ports}))]})
            )),
            vec![
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[1].containerPort: Required value",
                "spec.containers[0].ports[2].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[2].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ]
        );
    }

    #[test]
    fn host_network_ports_must_match_on_a_pod_only() {
        let ports = json!([{"containerPort": 9090, "protocol": "TCP"}]);
        let s = spec(json!({"hostNetwork": true, "containers": [container("main", json!({"ports": ports}))]}));
        assert!(errors_as(&s, false).is_empty());
        assert_eq!(
            errors_as(&s, true),
            vec![
                "spec.containers[0].ports[0].hostPort: Invalid value: 0: must match `containerPort` when `hostNetwork` is true"
            ]
        );
        let dup = json!([{"containerPort": 1, "hostPort": 80, "protocol": "TCP"},
                         {"containerPort": 2, "hostPort": 80, "protocol": "TCP"}]);
        assert_eq!(
            errors(&spec(json!({"containers": [container("main", json!({"ports": dup}))]}))),
            vec!["spec.containers[0].ports[1].hostPort: Duplicate value: \"TCP//80\""]
        );
    }

    #[test]
    fn resources_are_nonnegative_and_requests_within_limits() {
        let resources = json!({"limits": {"cpu": "-1", "memory": "1Gi"}, "requests": {"cpu": "-1", "memory": "2Gi"}});
        assert_eq!(
            errors(&spec(
                json!({"containers": [container("main", json!({"resources": resources}))]})
            )),
            vec![
                "spec.containers[0].resources.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi",
            ]
        );
        let fine = json!({"limits": {"cpu": "500m", "example.com/gpu": "1"}, "requests": {"cpu": "100m", "example.com/gpu": "1"}});
        assert!(
            errors(&spec(
                json!({"containers": [container("main", json!({"resources": fine}))]})
            ))
            .is_empty()
        );
        let extended = json!({"requests": {"example.com/gpu": "500m", "pods": "1"}});
        assert_eq!(
            errors(&spec(
                json!({"containers": [container("main", json!({"resources": extended}))]})
            )),
            vec![
                "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an integer",
                "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
                "spec.containers[0].resources.requests[pods]: Invalid value: \"pods\": must be a standard resource for containers",
            ]
        );
        let huge = json!({"limits": {"hugepages-2Mi": "2Mi"}, "requests": {"hugepages-2Mi": "2Mi"}});
        assert_eq!(
            errors(&spec(
                json!({"containers": [container("main", json!({"resources": huge}))]})
            )),
            vec!["spec.containers[0].resources: Forbidden: HugePages require cpu or memory"]
        );
    }

    #[test]
    fn env_names_and_sources() {
        let env = json!([{"name": "A=B", "value": "x"}, {"name": "B", "valueFrom": {}},
                         {"name": "C", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]);
        let errs = errors(&spec(json!({"containers": [container("main", json!({"env": env}))]})));
        assert_eq!(errs.len(), 3);
        assert!(errs[0].starts_with("spec.containers[0].env[0].name: Invalid value: \"A=B\""));
        assert!(errs[1].starts_with("spec.containers[0].env[1].valueFrom: Invalid value: \"\": must specify one of"));
        assert_eq!(
            errs[2],
            "spec.containers[0].env[2].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"
        );
    }

    #[test]
    fn volumes_have_unique_names_one_source_and_are_mounted_by_name() {
        let volumes =
            json!([{"name": "x", "configMap": {"name": "a", "defaultMode": 420}}, {"name": "x", "emptyDir": {}}]);
        assert_eq!(
            errors(&spec(json!({"volumes": volumes}))),
            vec!["spec.volumes[1].name: Duplicate value: \"x\""]
        );
        let volumes = json!([{"name": "two", "emptyDir": {}, "secret": {"secretName": "s"}},
                             {"name": "none"},
                             {"name": "cm", "configMap": {"defaultMode": 1000}}]);
        assert_eq!(
            errors(&spec(json!({"volumes": volumes}))),
            vec![
                "spec.volumes[0].secret: Forbidden: may not specify more than 1 volume type",
                "spec.volumes[1]: Required value: must specify a volume type",
                "spec.volumes[2].configMap.name: Required value",
                "spec.volumes[2].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            ]
        );
        let mounts = json!([{"name": "scratch", "mountPath": "/a"}, {"name": "missing", "mountPath": "/a"}]);
        let s = spec(json!({"volumes": [{"name": "scratch", "emptyDir": {}}],
                            "containers": [container("main", json!({"volumeMounts": mounts}))]}));
        assert_eq!(
            errors(&s),
            vec![
                "spec.containers[0].volumeMounts[1].name: Not found: \"missing\"",
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
            ]
        );
    }

    #[test]
    fn deadlines_names_and_tolerations() {
        assert_eq!(
            errors(&spec(json!({"activeDeadlineSeconds": 0}))),
            vec!["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]
        );
        assert!(errors(&spec(json!({"activeDeadlineSeconds": 30}))).is_empty());
        assert_eq!(
            errors(&spec(json!({"hostname": "a.b"}))),
            vec!["spec.hostname: Invalid value: \"a.b\": must not contain dots"]
        );
        let ok = json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                        {"key": "k", "operator": "Exists"}, {"operator": "Exists"}]);
        assert!(errors(&spec(json!({"tolerations": ok}))).is_empty());
        let bad = json!([{"operator": "Equal"}, {"key": "k", "operator": "Exists", "value": "v", "tolerationSeconds": 5},
                         {"key": "k", "operator": "Lt", "effect": "Sometimes"}]);
        assert_eq!(
            errors(&spec(json!({"tolerations": bad}))),
            vec![
                "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[1].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set",
                "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
                "spec.tolerations[2].operator: Unsupported value: \"Lt\": supported values: \"Equal\", \"Exists\", \"Lt\", \"Gt\"",
                "spec.tolerations[2].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ]
        );
    }

    #[test]
    fn a_template_checks_its_labels_and_has_no_ephemeral_containers() {
        let template = json!({"metadata": {"labels": {"app": "bad value"}},
                              "spec": spec(json!({"ephemeralContainers": [{"name": "debug"}]}))});
        let mut causes = Causes::default();
        validate_pod_template(&template, "spec.template", &mut causes);
        let fields: Vec<String> = causes
            .into_result("DaemonSet", "d")
            .err()
            .map(|e| e.causes().iter().map(|c| c.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            fields,
            vec!["spec.template.labels", "spec.template.spec.ephemeralContainers"]
        );
    }
}
