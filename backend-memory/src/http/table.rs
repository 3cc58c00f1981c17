//! Server-side printing: `kubectl get` asks for a `meta.k8s.io/v1` Table and prints the
//! columns the server chose. The columns and cells of the common built-in kinds are ported from
//! the API server's printers; a custom resource gets `Name`, its `additionalPrinterColumns`
//! (simple JSONPaths) or `Age`; the built-in kinds the server has no printer for get its
//! default `Name` and `Created At`. The one served kind without a ported printer,
//! HorizontalPodAutoscaler (its `Targets` column formats every metric type), is answered as
//! plain JSON, and kubectl prints its own default columns for it.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::discovery::KindEntry;

/// Whether the request's `Accept` header asks for a Table.
pub(crate) fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.split(',').any(|t| t.contains("as=Table")))
}

/// What each row carries of its object (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Include {
    /// No object.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl Include {
    /// From the `includeObject` query parameter.
    pub(crate) fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

/// The Table of `items`, or None when no printer is known for the kind.
pub(crate) fn table<'a>(
    kind: &KindEntry,
    list_metadata: Value,
    items: impl IntoIterator<Item = &'a Value>,
    include: Include,
    now: Timestamp,
) -> Option<Value> {
    let printer = Printer::of(kind)?;
    let rows: Vec<Value> = items
        .into_iter()
        .map(|item| {
            let mut row = json!({"cells": printer.cells(item, now)});
            if let Some(conditions) = row_conditions(kind, item) {
                row["conditions"] = conditions;
            }
            match include {
                Include::None => {}
                Include::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": item.get("metadata").cloned().unwrap_or(Value::Null),
                    });
                }
                Include::Object => row["object"] = item.clone(),
            }
            row
        })
        .collect();
    Some(json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": printer.columns(),
        "rows": rows,
    }))
}

/// One column: name, type, priority (0 shown by default, 1 with `-o wide`).
type Column = (&'static str, &'static str, u8);

const NAME: Column = ("Name", "string", 0);
const AGE: Column = ("Age", "string", 0);

/// The cells of one object at a time.
type Cells = fn(&Value, Timestamp) -> Vec<Value>;

enum Printer {
    Builtin(&'static [Column], Cells),
    Custom(Vec<Value>),
}

impl Printer {
    fn of(kind: &KindEntry) -> Option<Self> {
        if kind.custom {
            return Some(Self::Custom(kind.printer_columns.clone()));
        }
        let printer: (&'static [Column], Cells) =
            match (kind.type_ref.api_version.as_str(), kind.type_ref.kind.as_str()) {
                ("v1", "ConfigMap") => (&[NAME, ("Data", "string", 0), AGE], config_map),
                ("v1", "Secret") => (&[NAME, ("Type", "string", 0), ("Data", "string", 0), AGE], secret),
                ("v1", "Namespace") => (&[NAME, ("Status", "string", 0), AGE], namespace),
                ("v1", "ServiceAccount") => (&[NAME, AGE], name_and_age),
                ("v1", "Service") => (
                    &[
                        NAME,
                        ("Type", "string", 0),
                        ("Cluster-IP", "string", 0),
                        ("External-IP", "string", 0),
                        ("Port(s)", "string", 0),
                        AGE,
                        ("Selector", "string", 1),
                    ],
                    service,
                ),
                ("apps/v1", "Deployment") => (
                    &[
                        NAME,
                        ("Ready", "string", 0),
                        ("Up-to-date", "string", 0),
                        ("Available", "string", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                        ("Selector", "string", 1),
                    ],
                    deployment,
                ),
                ("apps/v1", "StatefulSet") => (
                    &[
                        NAME,
                        ("Ready", "string", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                    ],
                    stateful_set,
                ),
                ("coordination.k8s.io/v1", "Lease") => (&[NAME, ("Holder", "string", 0), AGE], lease),
                ("apps/v1", "ReplicaSet") => (
                    &[
                        NAME,
                        ("Desired", "integer", 0),
                        ("Current", "integer", 0),
                        ("Ready", "integer", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                        ("Selector", "string", 1),
                    ],
                    replica_set,
                ),
                ("apps/v1", "DaemonSet") => (
                    &[
                        NAME,
                        ("Desired", "integer", 0),
                        ("Current", "integer", 0),
                        ("Ready", "integer", 0),
                        ("Up-to-date", "integer", 0),
                        ("Available", "integer", 0),
                        ("Node Selector", "string", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                        ("Selector", "string", 1),
                    ],
                    daemon_set,
                ),
                ("v1", "PersistentVolumeClaim") => (
                    &[
                        NAME,
                        ("Status", "string", 0),
                        ("Volume", "string", 0),
                        ("Capacity", "string", 0),
                        ("Access Modes", "string", 0),
                        ("StorageClass", "string", 0),
                        ("VolumeAttributesClass", "string", 0),
                        AGE,
                        ("VolumeMode", "string", 1),
                    ],
                    persistent_volume_claim,
                ),
                ("rbac.authorization.k8s.io/v1", "RoleBinding") => (
                    &[
                        NAME,
                        ("Role", "string", 0),
                        AGE,
                        ("Users", "string", 1),
                        ("Groups", "string", 1),
                        ("ServiceAccounts", "string", 1),
                    ],
                    role_binding,
                ),
                ("policy/v1", "PodDisruptionBudget") => (
                    &[
                        NAME,
                        ("Min Available", "string", 0),
                        ("Max Unavailable", "string", 0),
                        ("Allowed Disruptions", "integer", 0),
                        AGE,
                    ],
                    pod_disruption_budget,
                ),
                ("v1", "Pod") => (
                    &[
                        NAME,
                        ("Ready", "string", 0),
                        ("Status", "string", 0),
                        ("Restarts", "string", 0),
                        AGE,
                        ("IP", "string", 1),
                        ("Node", "string", 1),
                        ("Nominated Node", "string", 1),
                        ("Readiness Gates", "string", 1),
                    ],
                    pod,
                ),
                ("batch/v1", "Job") => (
                    &[
                        NAME,
                        ("Status", "string", 0),
                        ("Completions", "string", 0),
                        ("Duration", "string", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                        ("Selector", "string", 1),
                    ],
                    job,
                ),
                ("batch/v1", "CronJob") => (
                    &[
                        NAME,
                        ("Schedule", "string", 0),
                        ("Timezone", "string", 0),
                        ("Suspend", "boolean", 0),
                        ("Active", "integer", 0),
                        ("Last Schedule", "string", 0),
                        AGE,
                        ("Containers", "string", 1),
                        ("Images", "string", 1),
                        ("Selector", "string", 1),
                    ],
                    cron_job,
                ),
                ("v1" | "events.k8s.io/v1", "Event") => (
                    &[
                        ("Last Seen", "string", 0),
                        ("Type", "string", 0),
                        ("Reason", "string", 0),
                        ("Object", "string", 0),
                        ("Subobject", "string", 1),
                        ("Source", "string", 1),
                        ("Message", "string", 0),
                        ("First Seen", "string", 1),
                        ("Count", "string", 1),
                        ("Name", "string", 1),
                    ],
                    event,
                ),
                ("v1", "Endpoints") => (&[NAME, ("Endpoints", "string", 0), AGE], endpoints),
                ("networking.k8s.io/v1", "Ingress") => (
                    &[
                        NAME,
                        ("Class", "string", 0),
                        ("Hosts", "string", 0),
                        ("Address", "string", 0),
                        ("Ports", "string", 0),
                        AGE,
                    ],
                    ingress,
                ),
                ("autoscaling/v2", "HorizontalPodAutoscaler") => (
                    &[
                        NAME,
                        ("Reference", "string", 0),
                        ("Targets", "string", 0),
                        ("MinPods", "string", 0),
                        ("MaxPods", "string", 0),
                        ("Replicas", "string", 0),
                        AGE,
                    ],
                    horizontal_pod_autoscaler,
                ),
                ("networking.k8s.io/v1", "NetworkPolicy") => {
                    (&[NAME, ("Pod-Selector", "string", 0), AGE], network_policy)
                }
                // Kinds the API server has no printer for get its default table convertor.
                (
                    "rbac.authorization.k8s.io/v1" | "apiextensions.k8s.io/v1" | "v1",
                    "Role" | "ClusterRole" | "CustomResourceDefinition" | "LimitRange",
                ) => (&[NAME, ("Created At", "date", 0)], name_and_created_at),
                _ => return None,
            };
        Some(Self::Builtin(printer.0, printer.1))
    }

    fn columns(&self) -> Vec<Value> {
        match self {
            Self::Builtin(columns, _) => columns
                .iter()
                .map(|(name, type_, priority)| {
                    let mut column =
                        json!({"name": name, "type": type_, "format": "", "description": "", "priority": priority});
                    if *name == "Name" {
                        column["format"] = json!("name");
                    }
                    column
                })
                .collect(),
            Self::Custom(columns) => {
                let mut out =
                    vec![json!({"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0})];
                out.extend(custom_columns(columns).iter().map(|c| {
                    json!({
                        "name": c["name"],
                        "type": c["type"],
                        "format": c.get("format").cloned().unwrap_or(json!("")),
                        "description": c.get("description").cloned().unwrap_or(json!("")),
                        "priority": c.get("priority").cloned().unwrap_or(json!(0)),
                    })
                }));
                out
            }
        }
    }

    fn cells(&self, item: &Value, now: Timestamp) -> Vec<Value> {
        match self {
            Self::Builtin(_, cells) => cells(item, now),
            Self::Custom(columns) => {
                let mut cells = vec![json!(name(item))];
                for column in custom_columns(columns) {
                    let path = column["jsonPath"].as_str().unwrap_or_default();
                    let value = simple_json_path(item, path);
                    cells.push(custom_cell(column["type"].as_str().unwrap_or("string"), value, now));
                }
                cells
            }
        }
    }
}

/// A CRD version's printer columns; a version without any gets `Age`, as the server defaults it.
fn custom_columns(columns: &[Value]) -> Vec<Value> {
    if columns.is_empty() {
        vec![json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})]
    } else {
        columns.to_vec()
    }
}

/// `.a.b.c` (the simple paths CRD printer columns use); anything else finds nothing.
fn simple_json_path<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.strip_prefix('.')?;
    path.split('.').try_fold(item, |value, key| value.get(key))
}

fn custom_cell(type_: &str, value: Option<&Value>, now: Timestamp) -> Value {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Value::Null;
    };
    match (type_, value) {
        ("string", Value::String(s)) => json!(s),
        ("string", other) => json!(other.to_string()),
        ("integer", Value::Number(n)) => n
            .as_i64()
            .map_or_else(|| json!(n.as_f64().map(|f| f as i64)), |i| json!(i)),
        ("number", Value::Number(n)) => json!(n.as_f64()),
        ("boolean", Value::Bool(b)) => json!(b),
        ("date", Value::String(s)) => json!(since(Some(s.as_str()), now)),
        _ => Value::Null,
    }
}

fn name(item: &Value) -> &str {
    item["metadata"]["name"].as_str().unwrap_or_default()
}

fn age(item: &Value, now: Timestamp) -> Value {
    json!(since(item["metadata"]["creationTimestamp"].as_str(), now))
}

fn count(value: &Value) -> usize {
    value.as_object().map_or(0, Map::len)
}

fn name_and_age(item: &Value, now: Timestamp) -> Vec<Value> {
    vec![json!(name(item)), age(item, now)]
}

fn config_map(item: &Value, now: Timestamp) -> Vec<Value> {
    let data = count(&item["data"]) + count(&item["binaryData"]);
    vec![json!(name(item)), json!(data), age(item, now)]
}

fn secret(item: &Value, now: Timestamp) -> Vec<Value> {
    let type_ = item["type"].as_str().unwrap_or_default();
    vec![
        json!(name(item)),
        json!(type_),
        json!(count(&item["data"])),
        age(item, now),
    ]
}

fn namespace(item: &Value, now: Timestamp) -> Vec<Value> {
    let phase = item["status"]["phase"].as_str().unwrap_or_default();
    vec![json!(name(item)), json!(phase), age(item, now)]
}

fn lease(item: &Value, now: Timestamp) -> Vec<Value> {
    let holder = item["spec"]["holderIdentity"].as_str().unwrap_or_default();
    vec![json!(name(item)), json!(holder), age(item, now)]
}

fn service(item: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &item["spec"];
    let type_ = spec["type"].as_str().unwrap_or_default();
    let cluster_ip = spec["clusterIPs"][0].as_str().unwrap_or("<none>");
    let external = match spec["externalIPs"].as_array() {
        Some(ips) if !ips.is_empty() => ips.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        _ if type_ == "LoadBalancer" => "<pending>".to_owned(),
        _ if type_ == "ExternalName" => spec["externalName"].as_str().unwrap_or_default().to_owned(),
        _ => "<none>".to_owned(),
    };
    let ports: Vec<String> = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_i64() {
                Some(node) if node != 0 => format!("{}:{node}/{protocol}", p["port"]),
                _ => format!("{}/{protocol}", p["port"]),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_owned()
    } else {
        ports.join(",")
    };
    vec![
        json!(name(item)),
        json!(type_),
        json!(cluster_ip),
        json!(external),
        json!(ports),
        age(item, now),
        json!(labels(&spec["selector"])),
    ]
}

fn deployment(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let (containers, images) = containers(&spec["template"]);
    vec![
        json!(name(item)),
        ready(item),
        json!(int(&status["updatedReplicas"])),
        json!(int(&status["availableReplicas"])),
        age(item, now),
        json!(containers),
        json!(images),
        json!(selector(&spec["selector"])),
    ]
}

fn stateful_set(item: &Value, now: Timestamp) -> Vec<Value> {
    let (containers, images) = containers(&item["spec"]["template"]);
    vec![
        json!(name(item)),
        ready(item),
        age(item, now),
        json!(containers),
        json!(images),
    ]
}

/// A finished Pod's row is marked completed (kubectl dims or hides such rows).
fn row_conditions(kind: &KindEntry, item: &Value) -> Option<Value> {
    if kind.custom || kind.type_ref.api_version != "v1" || kind.type_ref.kind != "Pod" {
        return None;
    }
    let message = match item["status"]["phase"].as_str()? {
        "Succeeded" => "The pod has completed successfully.",
        "Failed" => "The pod failed.",
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": item["status"]["phase"], "message": message}]))
}

/// Whether the first condition of `type_` in a status's `conditions` is `True`.
fn condition_is_true(conditions: &Value, type_: &str) -> bool {
    conditions
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == type_)
        .is_some_and(|c| c["status"] == "True")
}

/// `printPod`: ready containers, the status reason (init progress, a waiting or terminated
/// container's reason, Terminating), restarts with the age of the last one.
fn pod(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let str_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let condition_true = |type_: &str| condition_is_true(&status["conditions"], type_);
    let init_containers = list(&spec["initContainers"]);
    let restartable = |name: &Value| {
        init_containers
            .iter()
            .any(|c| &c["name"] == name && c["restartPolicy"] == "Always")
    };
    let total = list(&spec["containers"]).len()
        + init_containers
            .iter()
            .filter(|c| c["restartPolicy"] == "Always")
            .count();
    let phase = str_of(&status["phase"]);
    let mut reason = match status["reason"].as_str() {
        Some(r) if !r.is_empty() => r.to_owned(),
        _ => phase.clone(),
    };
    if list(&status["conditions"])
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let finished_at = |c: &Value| c["lastState"]["terminated"]["finishedAt"].as_str().map(str::to_owned);
    let (mut restarts, mut restartable_restarts, mut ready) = (0i64, 0i64, 0usize);
    let (mut last_restart, mut last_restartable_restart): (Option<String>, Option<String>) = (None, None);
    let later = |a: Option<String>, b: Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, b) => a.or(b),
    };
    let mut initializing = false;
    let init_statuses = list(&status["initContainerStatuses"]);
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int(&c["restartCount"]);
        last_restart = later(last_restart, finished_at(c));
        if restartable(&c["name"]) {
            restartable_restarts += int(&c["restartCount"]);
            last_restartable_restart = later(last_restartable_restart, finished_at(c));
        }
        let terminated = &c["state"]["terminated"];
        let waiting = &c["state"]["waiting"];
        if terminated.is_object() && int(&terminated["exitCode"]) == 0 {
            continue;
        }
        if restartable(&c["name"]) && c["started"] == true {
            if c["ready"] == true {
                ready += 1;
            }
            continue;
        }
        reason = if terminated.is_object() {
            match terminated["reason"].as_str() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ if int(&terminated["signal"]) != 0 => format!("Init:Signal:{}", int(&terminated["signal"])),
                _ => format!("Init:ExitCode:{}", int(&terminated["exitCode"])),
            }
        } else if waiting["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty() && r != "PodInitializing")
        {
            format!("Init:{}", str_of(&waiting["reason"]))
        } else {
            format!("Init:{i}/{}", init_containers.len())
        };
        initializing = true;
        break;
    }
    if !initializing || condition_true("Initialized") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let (mut has_running, mut error_reason) = (false, String::new());
        for c in list(&status["containerStatuses"]).iter().rev() {
            restarts += int(&c["restartCount"]);
            last_restart = later(last_restart, finished_at(c));
            let (waiting, terminated) = (&c["state"]["waiting"], &c["state"]["terminated"]);
            if waiting["reason"].as_str().is_some_and(|r| !r.is_empty()) {
                reason = str_of(&waiting["reason"]);
            } else if terminated.is_object() {
                reason = match terminated["reason"].as_str() {
                    Some(r) if !r.is_empty() => r.to_owned(),
                    _ if int(&terminated["signal"]) != 0 => format!("Signal:{}", int(&terminated["signal"])),
                    _ => format!("ExitCode:{}", int(&terminated["exitCode"])),
                };
                if int(&terminated["exitCode"]) != 0 {
                    error_reason = reason.clone();
                }
            } else if c["ready"] == true && c["state"]["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" {
            if has_running && condition_true("Ready") {
                reason = "Running".into();
            } else if !error_reason.is_empty() {
                reason = error_reason;
            } else if has_running {
                reason = "NotReady".into();
            }
        }
    }
    let deleting = item["metadata"]["deletionTimestamp"].is_string();
    if deleting && status["reason"] == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts = match last_restart {
        Some(at) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(&at), now)),
        _ => restarts.to_string(),
    };
    let none_if_empty = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
    let gates = list(&spec["readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let true_gates = gates
            .iter()
            .filter(|g| g["conditionType"].as_str().is_some_and(&condition_true))
            .count();
        format!("{true_gates}/{}", gates.len())
    };
    vec![
        json!(name(item)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        age(item, now),
        json!(none_if_empty(str_of(&status["podIPs"][0]["ip"]))),
        json!(none_if_empty(str_of(&spec["nodeName"]))),
        json!(none_if_empty(str_of(&status["nominatedNodeName"]))),
        json!(readiness_gates),
    ]
}

/// `printJob`: the status from the conditions, `succeeded/completions`, the run time.
fn job(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let succeeded = int(&status["succeeded"]);
    let completions = match spec["completions"].as_i64() {
        Some(c) => format!("{succeeded}/{c}"),
        None if int(&spec["parallelism"]) > 1 => format!("{succeeded}/1 of {}", int(&spec["parallelism"])),
        None => format!("{succeeded}/1"),
    };
    let at = |v: &Value| v.as_str().and_then(|t| t.parse::<Timestamp>().ok());
    let duration = match (at(&status["startTime"]), at(&status["completionTime"])) {
        (None, _) => String::new(),
        (Some(start), end) => {
            let seconds = end.unwrap_or(now).as_second() - start.as_second();
            human_duration(Duration::from_secs(seconds.max(0).unsigned_abs()))
        }
    };
    let has = |type_: &str| condition_is_true(&status["conditions"], type_);
    let state = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if item["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (containers, images) = containers(&spec["template"]);
    vec![
        json!(name(item)),
        json!(state),
        json!(completions),
        json!(duration),
        age(item, now),
        json!(containers),
        json!(images),
        json!(selector(&spec["selector"])),
    ]
}

fn cron_job(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let suspend = match spec["suspend"].as_bool() {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let last = match status["lastScheduleTime"].as_str() {
        Some(t) => since(Some(t), now),
        None => "<none>".to_owned(),
    };
    let template = &spec["jobTemplate"]["spec"];
    let (containers, images) = containers(&template["template"]);
    vec![
        json!(name(item)),
        json!(spec["schedule"].as_str().unwrap_or_default()),
        json!(spec["timeZone"].as_str().unwrap_or("<none>")),
        json!(suspend),
        json!(status["active"].as_array().map_or(0, Vec::len)),
        json!(last),
        age(item, now),
        json!(containers),
        json!(images),
        json!(selector(&template["selector"])),
    ]
}

/// `printEvent` (always wide on the server). An `events.k8s.io/v1` Event is read through its
/// fields' core names (`regarding`, `note`, `deprecated...`), as the server converts it.
fn event(item: &Value, now: Timestamp) -> Vec<Value> {
    let field = |core: &str, events: &str| {
        let v = &item[core];
        if v.is_null() { item[events].clone() } else { v.clone() }
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let first_at = field("firstTimestamp", "deprecatedFirstTimestamp");
    let first = match first_at.as_str() {
        Some(t) => since(Some(t), now),
        None => since(item["eventTime"].as_str(), now),
    };
    let mut last = match field("lastTimestamp", "deprecatedLastTimestamp").as_str() {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int(&field("count", "deprecatedCount"));
    if item["series"].is_object() {
        last = since(item["series"]["lastObservedTime"].as_str(), now);
        count = int(&item["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let object = field("involvedObject", "regarding");
    let kind = text(&object["kind"]).to_lowercase();
    let target = match object["name"].as_str() {
        Some(name) if !name.is_empty() => format!("{kind}/{name}"),
        _ => kind,
    };
    let source = field("source", "deprecatedSource");
    let non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
    let component = non_empty(text(&source["component"]), text(&item["reportingController"]));
    let instance = non_empty(text(&source["host"]), text(&item["reportingInstance"]));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(text(&item["type"])),
        json!(text(&item["reason"])),
        json!(target),
        json!(text(&object["fieldPath"])),
        json!(source),
        json!(text(&field("message", "note")).trim()),
        json!(first),
        json!(count),
        json!(name(item)),
    ]
}

/// `formatEndpoints`: up to three `ip:port` (or bare IPs of port-less subsets), then
/// `+ N more...`; `<none>` without subsets.
fn endpoints(item: &Value, now: Timestamp) -> Vec<Value> {
    let subsets = item["subsets"].as_array().cloned().unwrap_or_default();
    let mut list: Vec<String> = Vec::new();
    let (mut count, mut more) = (0usize, false);
    let mut add = |entry: String, list: &mut Vec<String>| {
        if list.len() == 3 {
            more = true;
        } else if !more {
            list.push(entry);
        }
    };
    for subset in &subsets {
        let addresses = subset["addresses"].as_array().cloned().unwrap_or_default();
        let ports = subset["ports"].as_array().cloned().unwrap_or_default();
        if ports.is_empty() {
            count += addresses.len();
            for a in &addresses {
                add(a["ip"].as_str().unwrap_or_default().to_owned(), &mut list);
            }
            continue;
        }
        for port in &ports {
            count += addresses.len();
            for a in &addresses {
                let ip = a["ip"].as_str().unwrap_or_default();
                // `net.JoinHostPort` brackets IPv6 addresses.
                let host = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_owned()
                };
                add(format!("{host}:{}", int(&port["port"])), &mut list);
            }
        }
    }
    let cell = if subsets.is_empty() {
        "<none>".to_owned()
    } else if more {
        format!("{} + {} more...", list.join(","), count - 3)
    } else {
        list.join(",")
    };
    vec![json!(name(item)), json!(cell), age(item, now)]
}

/// `printIngress` (wide: the address is not clipped).
fn ingress(item: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &item["spec"];
    let rules = spec["rules"].as_array().cloned().unwrap_or_default();
    let hosts: Vec<&str> = rules
        .iter()
        .take(3)
        .filter_map(|r| r["host"].as_str().filter(|h| !h.is_empty()))
        .collect();
    let hosts = match (hosts.is_empty(), rules.len() > 3) {
        (true, _) => "*".to_owned(),
        (false, true) => format!("{} + {} more...", hosts.join(","), rules.len() - 3),
        (false, false) => hosts.join(","),
    };
    let addresses: std::collections::BTreeSet<&str> = item["status"]["loadBalancer"]["ingress"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["ip"]
                .as_str()
                .filter(|s| !s.is_empty())
                .or_else(|| i["hostname"].as_str().filter(|s| !s.is_empty()))
        })
        .collect();
    let tls = spec["tls"].as_array().is_some_and(|t| !t.is_empty());
    vec![
        json!(name(item)),
        json!(spec["ingressClassName"].as_str().unwrap_or("<none>")),
        json!(hosts),
        json!(addresses.into_iter().collect::<Vec<_>>().join(",")),
        json!(if tls { "80, 443" } else { "80" }),
        age(item, now),
    ]
}

fn replica_set(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let (containers, images) = containers(&spec["template"]);
    vec![
        json!(name(item)),
        json!(int(&spec["replicas"])),
        json!(int(&status["replicas"])),
        json!(int(&status["readyReplicas"])),
        age(item, now),
        json!(containers),
        json!(images),
        json!(selector(&spec["selector"])),
    ]
}

fn daemon_set(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let (containers, images) = containers(&spec["template"]);
    vec![
        json!(name(item)),
        json!(int(&status["desiredNumberScheduled"])),
        json!(int(&status["currentNumberScheduled"])),
        json!(int(&status["numberReady"])),
        json!(int(&status["updatedNumberScheduled"])),
        json!(int(&status["numberAvailable"])),
        json!(labels(&spec["template"]["spec"]["nodeSelector"])),
        age(item, now),
        json!(containers),
        json!(images),
        json!(selector(&spec["selector"])),
    ]
}

/// `helper.GetAccessModesAsString`: the modes' short names in a fixed order.
fn access_modes(modes: &Value) -> String {
    let modes: Vec<&str> = modes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.contains(mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn persistent_volume_claim(item: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&item["spec"], &item["status"]);
    let phase = if item["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else {
        status["phase"].as_str().unwrap_or_default()
    };
    let volume = spec["volumeName"].as_str().unwrap_or_default();
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            status["capacity"]["storage"].as_str().unwrap_or("0").to_owned(),
            access_modes(&status["accessModes"]),
        )
    };
    // `GetPersistentVolumeClaimClass`: the beta annotation first, then the field.
    let class = item["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-class"]
        .as_str()
        .or_else(|| spec["storageClassName"].as_str())
        .unwrap_or_default();
    vec![
        json!(name(item)),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(spec["volumeAttributesClassName"].as_str().unwrap_or("<unset>")),
        age(item, now),
        json!(spec["volumeMode"].as_str().unwrap_or("<unset>")),
    ]
}

fn role_binding(item: &Value, now: Timestamp) -> Vec<Value> {
    let role = &item["roleRef"];
    // `rbac.SubjectsStrings`: users, groups and `namespace/name` service accounts.
    let subjects = |kind: &str| {
        item["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == kind)
            .map(|s| match kind {
                "ServiceAccount" => format!(
                    "{}/{}",
                    s["namespace"].as_str().unwrap_or_default(),
                    s["name"].as_str().unwrap_or_default()
                ),
                _ => s["name"].as_str().unwrap_or_default().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    vec![
        json!(name(item)),
        json!(format!(
            "{}/{}",
            role["kind"].as_str().unwrap_or_default(),
            role["name"].as_str().unwrap_or_default()
        )),
        age(item, now),
        json!(subjects("User")),
        json!(subjects("Group")),
        json!(subjects("ServiceAccount")),
    ]
}

fn pod_disruption_budget(item: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &item["spec"];
    let int_or_string = |v: &Value| match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => "N/A".to_owned(),
    };
    vec![
        json!(name(item)),
        json!(int_or_string(&spec["minAvailable"])),
        json!(int_or_string(&spec["maxUnavailable"])),
        json!(int(&item["status"]["disruptionsAllowed"])),
        age(item, now),
    ]
}

fn network_policy(item: &Value, now: Timestamp) -> Vec<Value> {
    vec![
        json!(name(item)),
        json!(selector(&item["spec"]["podSelector"])),
        age(item, now),
    ]
}

fn horizontal_pod_autoscaler(item: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &item["spec"];
    let target = &spec["scaleTargetRef"];
    let reference = format!(
        "{}/{}",
        target["kind"].as_str().unwrap_or_default(),
        target["name"].as_str().unwrap_or_default()
    );
    let min_pods = spec["minReplicas"]
        .as_i64()
        .map_or_else(|| "<unset>".to_owned(), |n| n.to_string());
    vec![
        json!(name(item)),
        json!(reference),
        json!(hpa_metrics(&spec["metrics"], &item["status"]["currentMetrics"])),
        json!(min_pods),
        json!(int(&spec["maxReplicas"])),
        json!(int(&item["status"]["currentReplicas"])),
        age(item, now),
    ]
}

/// `formatHPAMetrics`: each metric as `current/target`, the first two, then how many more.
fn hpa_metrics(specs: &Value, statuses: &Value) -> String {
    let specs = specs.as_array().map(Vec::as_slice).unwrap_or_default();
    if specs.is_empty() {
        return "<none>".to_owned();
    }
    // A Quantity the Go printer reads through a nil pointer prints `<nil>`.
    let quantity = |v: &Value| v.as_str().map_or_else(|| "<nil>".to_owned(), str::to_owned);
    let percent = |v: &Value| v.as_i64().map(|p| format!("{p}%"));
    let shown: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let status = &statuses[i];
            // The source's field in the spec and in the status (`resource`, `pods`, ...).
            let field = match spec["type"].as_str() {
                Some("External") => "external",
                Some("Pods") => "pods",
                Some("Object") => "object",
                Some("Resource") => "resource",
                Some("ContainerResource") => "containerResource",
                _ => return "<unknown type>".to_owned(),
            };
            let source = &spec[field];
            let target = &source["target"];
            let current = status.get(field).map(|s| &s["current"]);
            let average = !target["averageValue"].is_null();
            match field {
                "pods" => format!(
                    "{}/{}",
                    current.map_or_else(|| "<unknown>".to_owned(), |c| quantity(&c["averageValue"])),
                    quantity(&target["averageValue"])
                ),
                "external" | "object" if average => format!(
                    "{}/{} (avg)",
                    current.and_then(|c| c["averageValue"].as_str()).unwrap_or("<unknown>"),
                    quantity(&target["averageValue"])
                ),
                "external" | "object" => format!(
                    "{}/{}",
                    current.map_or_else(|| "<unknown>".to_owned(), |c| quantity(&c["value"])),
                    quantity(&target["value"])
                ),
                _ => {
                    let resource = source["name"].as_str().unwrap_or_default();
                    if average {
                        let current = current.map_or_else(|| "<unknown>".to_owned(), |c| quantity(&c["averageValue"]));
                        format!("{resource}: {current}/{}", quantity(&target["averageValue"]))
                    } else {
                        let current = current
                            .and_then(|c| percent(&c["averageUtilization"]))
                            .unwrap_or_else(|| "<unknown>".to_owned());
                        let target = percent(&target["averageUtilization"]).unwrap_or_else(|| "<auto>".to_owned());
                        format!("{resource}: {current}/{target}")
                    }
                }
            }
        })
        .collect();
    const SHOWN: usize = 2;
    if shown.len() > SHOWN {
        format!("{} + {} more...", shown[..SHOWN].join(", "), shown.len() - SHOWN)
    } else {
        shown.join(", ")
    }
}

/// The API server's default table convertor: the name and the creation time (RFC 3339).
fn name_and_created_at(item: &Value, _: Timestamp) -> Vec<Value> {
    vec![json!(name(item)), item["metadata"]["creationTimestamp"].clone()]
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// `ready/desired` replicas of a workload.
fn ready(item: &Value) -> Value {
    json!(format!(
        "{}/{}",
        int(&item["status"]["readyReplicas"]),
        int(&item["spec"]["replicas"])
    ))
}

fn containers(template: &Value) -> (String, String) {
    let list = template["spec"]["containers"].as_array().cloned().unwrap_or_default();
    let field = |key: &str| {
        list.iter()
            .map(|c| c[key].as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(",")
    };
    (field("name"), field("image"))
}

/// `a=b,c=d` in key order; `<none>` for no labels.
fn labels(map: &Value) -> String {
    let Some(map) = map.as_object().filter(|m| !m.is_empty()) else {
        return "<none>".to_owned();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// A label selector as `kubectl` writes it (matchLabels only; expressions as `key op (values)`).
fn selector(selector: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(map) = selector["matchLabels"].as_object() {
        parts.extend(
            map.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())),
        );
    }
    for e in selector["matchExpressions"].as_array().into_iter().flatten() {
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let key = e["key"].as_str().unwrap_or_default();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_owned(),
            _ => format!("!{key}"),
        });
    }
    if parts.is_empty() {
        "<none>".to_owned()
    } else {
        parts.join(",")
    }
}

/// The age of `timestamp` at `now` as the API server's printers write it.
fn since(timestamp: Option<&str>, now: Timestamp) -> String {
    let Some(then) = timestamp.and_then(|t| t.parse::<Timestamp>().ok()) else {
        return "<unknown>".to_owned();
    };
    let seconds = now.as_second() - then.as_second();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    human_duration(Duration::from_secs(seconds.max(0).unsigned_abs()))
}

/// `duration.HumanDuration` of the apimachinery: `45s`, `5m3s`, `17m`, `3h4m`, `2d5h`, `3y`.
fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let (minutes, hours) = (seconds / 60, seconds / 3600);
    let days = hours / 24;
    match () {
        () if seconds < 120 => format!("{seconds}s"),
        () if minutes < 10 => two_units(minutes, "m", seconds % 60, "s"),
        () if minutes < 180 => format!("{minutes}m"),
        () if hours < 8 => two_units(hours, "h", minutes % 60, "m"),
        () if hours < 48 => format!("{hours}h"),
        () if hours < 24 * 8 => two_units(days, "d", hours % 24, "h"),
        () if hours < 24 * 365 * 2 => format!("{days}d"),
        () if hours < 24 * 365 * 8 => two_units(days / 365, "y", days % 365, "d"),
        () => format!("{}y", days / 365),
    }
}

/// `5m3s`, or `5m` when the smaller unit is zero.
fn two_units(major: u64, major_unit: &str, minor: u64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Event (both APIs) and Ingress rows kube-apiserver 1.37.2 printed for the same objects.
    #[test]
    fn event_and_ingress_rows_are_the_servers() {
        let now: Timestamp = "2026-12-05T03:15:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let core = json!({"metadata": {"name": "e1"}, "type": "Normal", "reason": "Created", "message": "  made it  ",
            "involvedObject": {"kind": "ConfigMap", "name": "c", "fieldPath": "data"},
            "source": {"component": "my-op", "host": "node1"}, "count": 4,
            "firstTimestamp": "2026-12-05T02:00:00Z", "lastTimestamp": "2026-12-05T03:00:00Z"});
        assert_eq!(
            event(&core, now),
            vec![
                json!("15m"),
                json!("Normal"),
                json!("Created"),
                json!("configmap/c"),
                json!("data"),
                json!("my-op, node1"),
                json!("made it"),
                json!("75m"),
                json!(4),
                json!("e1")
            ]
        );
        let new_api = json!({"metadata": {"name": "e2"}, "type": "Warning", "reason": "Scaled", "note": "scaled up",
            "regarding": {"kind": "Deployment", "name": "d"}, "reportingController": "ctl",
            "reportingInstance": "ctl-1", "eventTime": "2026-12-05T02:30:00.000000Z"});
        let cells = event(&new_api, now);
        assert_eq!(
            cells[..8],
            [
                json!("45m"),
                json!("Warning"),
                json!("Scaled"),
                json!("deployment/d"),
                json!(""),
                json!("ctl, ctl-1"),
                json!("scaled up"),
                json!("45m")
            ]
        );
        assert_eq!(cells[8], json!(1));
        let ing = json!({"metadata": {"name": "ing", "creationTimestamp": "2026-12-05T03:15:00Z"},
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.com"]}],
                "rules": [{"host": "a.com"}, {"host": "b.com"}, {"host": "c.com"}, {"host": "d.com"}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}, {"hostname": "lb.example.com"}]}}});
        assert_eq!(
            ingress(&ing, now),
            [
                "ing",
                "nginx",
                "a.com,b.com,c.com + 1 more...",
                "10.0.0.9,lb.example.com",
                "80, 443",
                "0s"
            ]
            .map(|c| json!(c))
        );
    }

    /// The HorizontalPodAutoscaler rows kube-apiserver 1.37.2 printed for the same objects
    /// (as stored: defaulted, with `h-many`'s status written through `/status`).
    #[test]
    fn hpa_rows_are_the_servers() {
        let now: Timestamp = "2026-12-05T03:15:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let hpa = |name: &str, target: Value, min: i64, max: i64, metrics: Value, status: Value| {
            json!({"metadata": {"name": name, "creationTimestamp": "2026-12-05T03:15:00Z"},
                "spec": {"scaleTargetRef": target, "minReplicas": min, "maxReplicas": max, "metrics": metrics},
                "status": status})
        };
        let web = json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"});
        let cpu80 = json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}});
        let ext = hpa(
            "h-ext",
            web.clone(),
            1,
            3,
            json!([{"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}},
                {"type": "Object", "object": {"metric": {"name": "hits"}, "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "s"},
                    "target": {"type": "AverageValue", "averageValue": "500m"}}}]),
            json!({"currentMetrics": null, "desiredReplicas": 0}),
        );
        let many = hpa(
            "h-many",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"}),
            2,
            10,
            json!([cpu80,
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}]),
            json!({"currentReplicas": 4, "desiredReplicas": 4, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 55, "averageValue": "120m"}}},
                {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "700Mi"}}}]}),
        );
        let none = hpa("h-none", web, 1, 5, json!([cpu80]), json!({"desiredReplicas": 0}));
        let row = |cells: [Value; 7]| cells.to_vec();
        assert_eq!(
            horizontal_pod_autoscaler(&ext, now),
            row([
                json!("h-ext"),
                json!("Deployment/web"),
                json!("<unknown>/30, <unknown>/500m (avg)"),
                json!("1"),
                json!(3),
                json!(0),
                json!("0s")
            ])
        );
        assert_eq!(
            horizontal_pod_autoscaler(&many, now),
            row([
                json!("h-many"),
                json!("StatefulSet/db"),
                json!("cpu: 55%/80%, memory: 700Mi/1Gi + 1 more..."),
                json!("2"),
                json!(10),
                json!(4),
                json!("0s")
            ])
        );
        assert_eq!(
            horizontal_pod_autoscaler(&none, now)[2..4],
            [json!("cpu: <unknown>/80%"), json!("1")]
        );
        assert_eq!(hpa_metrics(&Value::Null, &Value::Null), "<none>");
    }

    #[test]
    fn endpoints_rows_list_three_then_count_the_rest() {
        let now: Timestamp = "2026-12-05T03:15:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let ep = |subsets: Value| json!({"metadata": {"name": "e", "creationTimestamp": "2026-12-05T03:15:00Z"}, "subsets": subsets});
        let addresses = json!([{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "fd00::3"}]);
        let two_ports = ep(json!([{"addresses": addresses, "ports": [{"port": 80}, {"port": 443}]}]));
        assert_eq!(
            endpoints(&two_ports, now)[1],
            json!("10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more...")
        );
        let headless = ep(json!([{"addresses": [{"ip": "10.0.0.1"}]}]));
        assert_eq!(endpoints(&headless, now)[1], json!("10.0.0.1"));
        assert_eq!(endpoints(&ep(json!([])), now)[1], json!("<none>"));
    }

    /// The Job and CronJob rows kube-apiserver 1.37.2 printed for the same objects.
    #[test]
    fn job_and_cron_job_rows_are_the_servers() {
        let now: Timestamp = "2026-12-05T03:12:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let done = json!({"metadata": {"name": "k", "creationTimestamp": "2026-12-05T03:12:00Z"},
            "spec": {"completions": 1, "parallelism": 1, "selector": {"matchLabels": {"u": "1"}},
                "template": {"spec": {"containers": [{"name": "k", "image": "busybox"}]}}},
            "status": {"startTime": "2026-12-05T02:00:00Z", "completionTime": "2026-12-05T02:03:10Z", "succeeded": 1,
                "conditions": [{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]}});
        assert_eq!(
            job(&done, now),
            ["k", "Complete", "1/1", "3m10s", "0s", "k", "busybox", "u=1"].map(|c| json!(c))
        );
        let cron = json!({"metadata": {"name": "cj", "creationTimestamp": "2026-12-05T03:12:00Z"},
            "spec": {"schedule": "*/5 * * * *", "suspend": false, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "cj", "image": "busybox"}]}}}}}});
        assert_eq!(
            cron_job(&cron, now),
            vec![
                json!("cj"),
                json!("*/5 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(0),
                json!("<none>"),
                json!("0s"),
                json!("cj"),
                json!("busybox"),
                json!("<none>")
            ]
        );
    }

    /// The rows kube-apiserver 1.37.2 printed for the same two Pods (`kubectl get pods -o wide`):
    /// a crash-looping container with restarts and a readiness gate, and a Pod initializing.
    #[test]
    fn pod_rows_are_the_servers() {
        let now: Timestamp = "2026-12-05T03:09:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let crashing = json!({"metadata": {"name": "p1", "creationTimestamp": "2026-12-05T03:09:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "readinessGates": [{"conditionType": "x/ok"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}],
                "conditions": [{"type": "x/ok", "status": "True"}, {"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                    {"name": "b", "ready": false, "restartCount": 3,
                        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-12-05T02:00:00Z"}},
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(
            pod(&crashing, now),
            vec![
                json!("p1"),
                json!("1/2"),
                json!("CrashLoopBackOff"),
                json!("3 (69m ago)"),
                json!("0s"),
                json!("10.0.0.5"),
                json!("<none>"),
                json!("<none>"),
                json!("1/1")
            ]
        );
        let initializing = json!({"metadata": {"name": "p2", "creationTimestamp": "2026-12-05T03:09:00Z"},
            "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}]}});
        let cells = pod(&initializing, now);
        assert_eq!(cells[..4], [json!("p2"), json!("0/1"), json!("Init:0/1"), json!("0")]);
    }

    #[test]
    fn durations_read_as_the_api_server_prints_them() {
        let cases = [
            (45, "45s"),
            (119, "119s"),
            (303, "5m3s"),
            (600, "10m"),
            (3 * 3600 + 240, "3h4m"),
            (30 * 3600, "30h"),
            (2 * 86400 + 5 * 3600, "2d5h"),
            (100 * 86400, "100d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (seconds, text) in cases {
            assert_eq!(human_duration(Duration::from_secs(seconds)), text, "{seconds}s");
        }
    }

    #[test]
    fn custom_columns_follow_simple_paths_and_type_their_cells() {
        let item = json!({"metadata": {"name": "w", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"size": 3}});
        let now: Timestamp = "2026-01-01T00:05:00Z".parse().expect("a timestamp");
        assert_eq!(simple_json_path(&item, ".spec.size"), Some(&json!(3)));
        assert_eq!(simple_json_path(&item, "spec.size"), None);
        assert_eq!(custom_cell("integer", Some(&json!(3)), now), json!(3));
        assert_eq!(custom_cell("string", Some(&json!(3)), now), json!("3"));
        assert_eq!(
            custom_cell("date", item["metadata"].get("creationTimestamp"), now),
            json!("5m")
        );
        assert_eq!(custom_cell("integer", None, now), Value::Null);
    }
}
