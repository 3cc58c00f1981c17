//! Service: `SetDefaults_Service` (`k8s.io/kubernetes/pkg/apis/core/v1/defaults.go`, 1.37.2)
//! and what the Service REST storage fills in (`pkg/registry/core/service/storage`): IP family
//! fields, the cluster IP and node ports, kept across updates that omit them
//! (`patchAllocatedValues`).
//!
//! Allocation is deterministic, unlike the real server's random pick: the lowest free address
//! of the dynamic band of `10.0.0.0/24` (the test control plane's `--service-cluster-ip-range`;
//! the first 16 addresses are the band the real allocator keeps for static choices), and the
//! lowest free node port from 30000.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::fields::{Obj, default_nil, default_unset, each_mut, is_nil, is_unset, object_mut, str_of};

/// The first three octets of the service range.
const SERVICE_NETWORK: &str = "10.0.0";
/// The first address the dynamic band hands out, and the broadcast address (excluded).
const DYNAMIC_FIRST: u8 = 17;
const LAST_HOST: u8 = 254;
/// The node port range (`--service-node-port-range` default).
const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;
/// `v1.DefaultClientIPServiceAffinitySeconds`.
const CLIENT_IP_TIMEOUT_SECONDS: i64 = 10800;

/// Addresses and node ports other Services hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct InUse {
    /// Cluster IPs of every stored Service.
    pub ips: BTreeSet<String>,
    /// Node ports of every stored Service.
    pub node_ports: BTreeSet<i64>,
}

impl InUse {
    /// Records what one stored Service holds.
    pub(crate) fn add(&mut self, body: &Obj) {
        let Some(spec) = body.get("spec") else { return };
        for ip in spec.get("clusterIPs").and_then(Value::as_array).into_iter().flatten() {
            if let Some(ip) = ip.as_str() {
                self.ips.insert(ip.to_owned());
            }
        }
        for port in spec.get("ports").and_then(Value::as_array).into_iter().flatten() {
            if let Some(node_port) = port.get("nodePort").and_then(Value::as_i64) {
                self.node_ports.insert(node_port);
            }
        }
    }
}

/// `SetObjectDefaults_Service`, plus the empty `status.loadBalancer` struct Go always writes.
pub(crate) fn service(body: &mut Obj) {
    if let Some(spec) = object_mut(body, "spec") {
        spec_defaults(spec);
    }
    if let Some(status) = object_mut(body, "status") {
        default_nil(status, "loadBalancer", json!({}));
    }
}

fn spec_defaults(spec: &mut Obj) {
    default_unset(spec, "sessionAffinity", json!("None"));
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT_SECONDS}}),
                );
            }
        }
        _ => {}
    }
    default_unset(spec, "type", json!("ClusterIP"));
    for port in each_mut(spec, "ports") {
        default_unset(port, "protocol", json!("TCP"));
        if is_unset(port, "targetPort") {
            let port_number = port.get("port").cloned().unwrap_or(json!(0));
            port.insert("targetPort".into(), port_number);
        }
    }
    let kind = str_of(spec, "type").to_owned();
    if externally_accessible(spec) {
        default_unset(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default_nil(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if kind == "ExternalName" {
        // The server keeps one an earlier type had in storage but drops it on every read
        // (`defaultOnReadInternalTrafficPolicy`); readers see what dropping it here gives.
        spec.remove("internalTrafficPolicy");
    }
    if kind == "LoadBalancer" {
        default_nil(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

/// [`InUse`], computed on first use: collecting it scans every stored Service, which only a
/// write that allocates (a cluster IP or a node port) needs.
struct LazyInUse<F> {
    collect: Option<F>,
    held: Option<InUse>,
}

impl<F: FnOnce() -> InUse> LazyInUse<F> {
    fn get(&mut self) -> &InUse {
        if self.held.is_none() {
            self.held = Some(self.collect.take().map(|f| f()).unwrap_or_default());
        }
        self.held.get_or_insert_with(InUse::default)
    }
}

/// The REST storage's allocation for a create (`old` is `None`) or an update: values the
/// update omits are taken from the stored Service, then IP family fields, the cluster IP and
/// node ports are filled in. `in_use` (what other Services hold) is called only when an
/// address or a node port is allocated.
pub(crate) fn allocate(body: &mut Obj, old: Option<&Obj>, in_use: impl FnOnce() -> InUse) {
    let mut in_use = LazyInUse {
        collect: Some(in_use),
        held: None,
    };
    let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let kind = str_of(spec, "type").to_owned();
    let old_spec = old.and_then(|o| o.get("spec")).and_then(Value::as_object);
    if let Some(old_spec) = old_spec {
        keep_allocated(spec, old_spec, &kind);
    }
    if kind == "ExternalName" {
        return;
    }
    let headless = str_of(spec, "clusterIP") == "None";
    let selectorless = is_unset(spec, "selector");
    if is_nil(spec, "ipFamilyPolicy") {
        let policy = if headless && selectorless {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        spec.insert("ipFamilyPolicy".into(), json!(policy));
    }
    // `updateClusterIPs`: an update allocates cluster IPs only when the Service stops being an
    // ExternalName one; a Service stored without them (created through `/status`, which has
    // no allocation) keeps having none.
    let allocates = old_spec.is_none_or(|o| str_of(o, "type") == "ExternalName");
    if !allocates {
        // Nothing to allocate: the families are still defaulted below.
    } else if is_unset(spec, "clusterIP") {
        let ip = free_ip(in_use.get());
        spec.insert("clusterIP".into(), json!(ip));
    }
    // `normalizeClusterIPs`: a set clusterIP (`None` too) is the first of clusterIPs.
    if is_unset(spec, "clusterIPs") && (allocates || !is_unset(spec, "clusterIP")) {
        let ip = spec.get("clusterIP").cloned().unwrap_or(Value::Null);
        spec.insert("clusterIPs".into(), json!([ip]));
    }
    if is_unset(spec, "ipFamilies") {
        let families = if headless && selectorless {
            json!(["IPv4", "IPv6"])
        } else {
            json!(["IPv4"])
        };
        spec.insert("ipFamilies".into(), families);
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
        let mut taken = in_use.get().node_ports.clone();
        for port in each_mut(spec, "ports") {
            if is_unset(port, "nodePort")
                && let Some(free) = NODE_PORTS.clone().find(|p| !taken.contains(p))
            {
                taken.insert(free);
                port.insert("nodePort".into(), json!(free));
            }
        }
    }
}

/// `patchAllocatedValues` and the update half of `initIPFamilyFields`.
fn keep_allocated(spec: &mut Obj, old_spec: &Obj, kind: &str) {
    if kind == "ExternalName" || str_of(old_spec, "type") == "ExternalName" {
        return;
    }
    for key in ["clusterIP", "clusterIPs", "ipFamilyPolicy"] {
        if is_unset(spec, key)
            && let Some(value) = old_spec.get(key)
        {
            spec.insert(key.into(), value.clone());
        }
    }
    // Node ports are carried over only while both types use them (`needsNodePort`).
    let node_port_kind = |k: &str| matches!(k, "NodePort" | "LoadBalancer");
    if !node_port_kind(kind) || !node_port_kind(str_of(old_spec, "type")) {
        return;
    }
    let old_ports: Vec<(String, i64)> = old_spec
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let node_port = p.get("nodePort")?.as_i64()?;
            let name = p.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
            Some((name, node_port))
        })
        .collect();
    let used: BTreeSet<i64> = spec
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort")?.as_i64())
        .filter(|p| old_ports.iter().any(|(_, old)| old == p))
        .collect();
    for port in each_mut(spec, "ports") {
        if is_unset(port, "nodePort") {
            let name = str_of(port, "name");
            if let Some((_, node_port)) = old_ports.iter().find(|(n, _)| n == name)
                && !used.contains(node_port)
            {
                port.insert("nodePort".into(), json!(node_port));
            }
        }
    }
}

/// `dropTypeDependentFields`: an update that changes the type wipes the values the old type
/// had (possibly allocated or defaulted) and the new one does not use, unless the update itself
/// changed them (then validation has the last word). Runs on the update as sent, before the
/// new type's defaults and allocation, which then fill in what the new type needs.
pub(crate) fn drop_type_dependent_fields(body: &mut Obj, old: &Obj) {
    let Some(old_spec) = old.get("spec").and_then(Value::as_object) else {
        return;
    };
    let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let (old_type, new_type) = (type_of(old_spec).to_owned(), type_of(spec).to_owned());
    let (old_type, new_type) = (old_type.as_str(), new_type.as_str());
    let same =
        |spec: &Obj, key: &str| spec.get(key).filter(|v| !v.is_null()) == old_spec.get(key).filter(|v| !v.is_null());
    if old_type != "ExternalName" && new_type == "ExternalName" {
        if str_of(spec, "clusterIP") == str_of(old_spec, "clusterIP") && same(spec, "clusterIPs") {
            spec.remove("clusterIP");
            spec.remove("clusterIPs");
        }
        if same(spec, "ipFamilies") {
            spec.remove("ipFamilies");
        }
        if same(spec, "ipFamilyPolicy") {
            spec.remove("ipFamilyPolicy");
        }
    }
    let node_port_kind = |t: &str| matches!(t, "NodePort" | "LoadBalancer");
    if node_port_kind(old_type) && !node_port_kind(new_type) {
        let old_node_ports = node_ports(old_spec);
        if node_ports(spec).is_subset(&old_node_ports) {
            for port in each_mut(spec, "ports") {
                port.remove("nodePort");
            }
        }
    }
    let health_check = |s: &Obj| type_of(s) == "LoadBalancer" && str_of(s, "externalTrafficPolicy") == "Local";
    if health_check(old_spec) && !health_check(spec) && same(spec, "healthCheckNodePort") {
        spec.remove("healthCheckNodePort");
    }
    if old_type == "LoadBalancer" && new_type != "LoadBalancer" {
        if !is_nil(spec, "allocateLoadBalancerNodePorts") && same(spec, "allocateLoadBalancerNodePorts") {
            spec.remove("allocateLoadBalancerNodePorts");
        }
        if same(spec, "loadBalancerClass") {
            spec.remove("loadBalancerClass");
        }
    }
    if externally_accessible(old_spec) && !externally_accessible(spec) && same(spec, "externalTrafficPolicy") {
        spec.remove("externalTrafficPolicy");
    }
    if new_type != "LoadBalancer"
        && let Some(status) = body.get_mut("status").and_then(Value::as_object_mut)
    {
        status.insert("loadBalancer".into(), json!({}));
    }
}

/// `spec.type`, `ClusterIP` when unset (the default it gets).
fn type_of(spec: &Obj) -> &str {
    match str_of(spec, "type") {
        "" => "ClusterIP",
        t => t,
    }
}

/// `serviceapi.ExternallyAccessible`.
fn externally_accessible(spec: &Obj) -> bool {
    matches!(type_of(spec), "LoadBalancer" | "NodePort")
        || (type_of(spec) == "ClusterIP" && !is_unset(spec, "externalIPs"))
}

/// The non-zero node ports of a spec.
fn node_ports(spec: &Obj) -> BTreeSet<i64> {
    spec.get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort")?.as_i64())
        .filter(|p| *p != 0)
        .collect()
}

/// The lowest free address of the dynamic band, then of the static band.
fn free_ip(in_use: &InUse) -> String {
    (DYNAMIC_FIRST..=LAST_HOST)
        .chain(2..DYNAMIC_FIRST)
        .map(|host| format!("{SERVICE_NETWORK}.{host}"))
        .find(|ip| !in_use.ips.contains(ip))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(spec: Value, old: Option<&Obj>, in_use: &InUse) -> Obj {
        let mut body = json!({ "spec": spec });
        let body = body.as_object_mut().expect("object");
        service(body);
        allocate(body, old, || in_use.clone());
        body.clone()
    }

    #[test]
    fn allocation_takes_the_lowest_free_address_and_node_port() {
        let mut in_use = InUse::default();
        let first = defaulted(json!({"ports": [{"port": 80}]}), None, &in_use);
        assert_eq!(first["spec"]["clusterIP"], "10.0.0.17");
        in_use.add(&first);
        let spec = json!({"type": "NodePort", "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]});
        let second = defaulted(spec, None, &in_use);
        assert_eq!(second["spec"]["clusterIPs"], json!(["10.0.0.18"]));
        assert_eq!(second["spec"]["ports"][0]["nodePort"], 30000);
        assert_eq!(second["spec"]["ports"][1]["nodePort"], 30001);
    }

    #[test]
    fn an_update_that_omits_allocated_values_keeps_them() {
        let spec = json!({"type": "NodePort", "ports": [{"name": "a", "port": 80}]});
        let created = defaulted(spec.clone(), None, &InUse::default());
        let mut others = InUse::default();
        others.ips.insert("10.0.0.17".into());
        let updated = defaulted(spec, Some(&created), &others);
        assert_eq!(updated, created);
    }

    #[test]
    fn node_port_to_cluster_ip_drops_the_node_port_fields_the_update_kept() {
        let spec = json!({"type": "NodePort", "ports": [{"name": "a", "port": 80}]});
        let created = defaulted(spec, None, &InUse::default());
        assert_eq!(created["spec"]["externalTrafficPolicy"], "Cluster");
        // A merge patch of `type` keeps every other field of the stored spec.
        let mut patched = created.clone();
        patched["spec"]["type"] = json!("ClusterIP");
        drop_type_dependent_fields(&mut patched, &created);
        let mut body = patched;
        service(&mut body);
        allocate(&mut body, Some(&created), InUse::default);
        assert_eq!(body["spec"].get("externalTrafficPolicy"), None);
        assert_eq!(body["spec"]["ports"][0].get("nodePort"), None);
        assert_eq!(body["spec"]["clusterIP"], created["spec"]["clusterIP"]);
    }

    #[test]
    fn a_type_change_that_also_sets_a_new_node_port_keeps_it_for_validation() {
        let spec = json!({"type": "NodePort", "ports": [{"name": "a", "port": 80}]});
        let created = defaulted(spec, None, &InUse::default());
        let mut patched = created.clone();
        patched["spec"]["type"] = json!("ClusterIP");
        patched["spec"]["ports"][0]["nodePort"] = json!(31000);
        drop_type_dependent_fields(&mut patched, &created);
        assert_eq!(patched["spec"]["ports"][0]["nodePort"], 31000);
    }

    #[test]
    fn headless_services_get_no_address() {
        let headless = defaulted(
            json!({"clusterIP": "None", "selector": {"a": "b"}}),
            None,
            &InUse::default(),
        );
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        assert_eq!(headless["spec"]["ipFamilyPolicy"], "SingleStack");
    }
}
