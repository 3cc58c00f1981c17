//! `networking.k8s.io/v1` Ingress and NetworkPolicy validation, ported from kube-apiserver
//! 1.37.2's `ValidateIngressCreate`, `ValidateIngressUpdate`, `ValidateIngressStatusUpdate`,
//! `ValidateNetworkPolicy` and `ValidateNetworkPolicyUpdate` (the registry strategies run them
//! on create, update and status writes). Values arrive defaulted (NetworkPolicy policy types and
//! port protocols).

use operator_runtime_core::Object;
use serde_json::Value;

use super::KindHooks;
use super::field_errors::{
    cidr_contains, dns1035_label, dns1123_label, dns1123_subdomain, invalid, invalid_raw, legacy_cidr, legacy_ip,
    not_supported, parse_ip_sloppy, path_segment_name, port_name, port_num, required, wildcard_dns1123_subdomain,
};
use super::label_selector::{selector_has_errors, validate_label_selector};
use crate::validation::Causes;

/// The legacy annotation naming an Ingress's class.
const INGRESS_CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// A non-null field of a JSON object.
fn get<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    value.and_then(|v| v.get(key)).filter(|v| !v.is_null())
}

/// A string field, empty when absent (Go's zero value).
fn text<'a>(value: Option<&'a Value>, key: &str) -> &'a str {
    get(value, key).and_then(Value::as_str).unwrap_or_default()
}

/// The items of an array field (none when absent).
fn items<'a>(value: Option<&'a Value>, key: &str) -> &'a [Value] {
    get(value, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// `IngressValidationOptions`: what an update keeps accepting because the old object had it.
/// (`AllowRelaxedServiceNameValidation` is always on: its gate is GA and locked in 1.37.)
#[derive(Clone, Copy, Default)]
struct IngressOptions {
    /// `AllowInvalidSecretName`.
    invalid_secret_name: bool,
    /// `AllowInvalidWildcardHostRule`.
    invalid_wildcard_host_rule: bool,
}

impl IngressOptions {
    /// The options of an update of `old` (`allowInvalidSecretName`,
    /// `allowInvalidWildcardHostRule`).
    fn for_update(old: &Object) -> Self {
        let spec = old.body.get("spec");
        let invalid_secret_name = items(spec, "tls").iter().any(|tls| {
            let name = text(Some(tls), "secretName");
            !name.is_empty() && !dns1123_subdomain(name).is_empty()
        });
        let invalid_wildcard_host_rule = items(spec, "rules").iter().any(|rule| {
            if !text(Some(rule), "host").contains('*') {
                return false;
            }
            let mut causes = Causes::default();
            // Checked with the zero options: Service names as DNS-1035 labels.
            rule_value(&mut causes, rule, "", false);
            !causes.is_empty()
        });
        Self {
            invalid_secret_name,
            invalid_wildcard_host_rule,
        }
    }
}

/// Ingress: `ValidateIngressSpec` on create and update, the class annotation on create, the
/// load-balancer status on status writes.
#[derive(Debug)]
pub(crate) struct IngressHooks;

impl KindHooks for IngressHooks {
    /// `ValidateIngressCreate`.
    fn validate(&self, object: &Object, causes: &mut Causes) {
        ingress_spec(causes, object.body.get("spec"), IngressOptions::default());
        let annotation = object
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(INGRESS_CLASS_ANNOTATION));
        let class = get(object.body.get("spec"), "ingressClassName").and_then(Value::as_str);
        if let (Some(annotation), Some(class)) = (annotation, class)
            && annotation != class
        {
            invalid(
                causes,
                &format!("annotations.{INGRESS_CLASS_ANNOTATION}"),
                annotation,
                "must match `ingressClassName` when both are specified",
            );
        }
    }

    /// `ValidateIngressUpdate`: the spec rules, relaxed for what the old object already had.
    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        ingress_spec(causes, new.body.get("spec"), IngressOptions::for_update(old));
    }

    /// `ValidateIngressStatusUpdate`.
    fn validate_status_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        let ingress_points = |o: &Object| -> Vec<Value> {
            o.body
                .get("status")
                .and_then(|s| s.get("loadBalancer"))
                .and_then(|l| l.get("ingress"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let old_points = ingress_points(old);
        let old_ips: Vec<&str> = old_points
            .iter()
            .map(|p| text(Some(p), "ip"))
            .filter(|ip| !ip.is_empty())
            .collect();
        for (i, point) in ingress_points(new).iter().enumerate() {
            let path = format!("status.loadBalancer.ingress[{i}]");
            let ip = text(Some(point), "ip");
            if !ip.is_empty() {
                legacy_ip(causes, &format!("{path}.ip"), ip, &old_ips);
            }
            let hostname = text(Some(point), "hostname");
            if !hostname.is_empty() {
                for msg in dns1123_subdomain(hostname) {
                    invalid(causes, &format!("{path}.hostname"), hostname, &msg);
                }
                if parse_ip_sloppy(hostname).is_some() {
                    invalid(
                        causes,
                        &format!("{path}.hostname"),
                        hostname,
                        "must be a DNS name, not an IP address",
                    );
                }
            }
        }
    }
}

/// `ValidateIngressSpec`.
fn ingress_spec(causes: &mut Causes, spec: Option<&Value>, opts: IngressOptions) {
    let rules = items(spec, "rules");
    let default_backend = get(spec, "defaultBackend");
    if rules.is_empty() && default_backend.is_none() {
        // The bad value is the (nil or empty) rules slice, printed as JSON.
        let shown = if get(spec, "rules").is_some() { "[]" } else { "null" };
        invalid_raw(
            causes,
            "spec",
            shown,
            "either `defaultBackend` or `rules` must be specified",
        );
    }
    if let Some(backend) = default_backend {
        ingress_backend(causes, backend, "spec.defaultBackend", true);
    }
    for (i, rule) in rules.iter().enumerate() {
        let path = format!("spec.rules[{i}]");
        let host = text(Some(rule), "host");
        let mut wildcard = false;
        if !host.is_empty() {
            if parse_ip_sloppy(host).is_some() {
                invalid(
                    causes,
                    &format!("{path}.host"),
                    host,
                    "must be a DNS name, not an IP address",
                );
            }
            let msgs = if host.contains('*') {
                wildcard = true;
                wildcard_dns1123_subdomain(host)
            } else {
                dns1123_subdomain(host)
            };
            for msg in msgs {
                invalid(causes, &format!("{path}.host"), host, &msg);
            }
        }
        if !wildcard || !opts.invalid_wildcard_host_rule {
            rule_value(causes, rule, &path, true);
        }
    }
    for (i, tls) in items(spec, "tls").iter().enumerate() {
        for (j, host) in items(Some(tls), "hosts").iter().enumerate() {
            let host = host.as_str().unwrap_or_default();
            let msgs = if host.contains('*') {
                wildcard_dns1123_subdomain(host)
            } else {
                dns1123_subdomain(host)
            };
            for msg in msgs {
                invalid(causes, &format!("spec.tls[{i}].hosts[{j}]"), host, &msg);
            }
        }
        let secret = text(Some(tls), "secretName");
        if !opts.invalid_secret_name && !secret.is_empty() {
            for msg in dns1123_subdomain(secret) {
                invalid(causes, &format!("spec.tls[{i}].secretName"), secret, &msg);
            }
        }
    }
    if let Some(class) = get(spec, "ingressClassName").and_then(Value::as_str) {
        for msg in dns1123_subdomain(class) {
            invalid(causes, "spec.ingressClassName", class, &msg);
        }
    }
}

/// `validateIngressRuleValue` / `validateHTTPIngressRuleValue` of the rule at `path`;
/// `relaxed_names` is `AllowRelaxedServiceNameValidation` (Service names as DNS-1123 labels
/// rather than DNS-1035 ones).
fn rule_value(causes: &mut Causes, rule: &Value, path: &str, relaxed_names: bool) {
    let Some(http) = get(Some(rule), "http") else { return };
    let paths = items(Some(http), "paths");
    if paths.is_empty() {
        required(causes, &format!("{path}.http.paths"), "");
    }
    for (i, http_path) in paths.iter().enumerate() {
        http_ingress_path(causes, http_path, &format!("{path}.http.paths[{i}]"), relaxed_names);
    }
}

/// `validateHTTPIngressPath`: the path's shape per path type, then its backend.
fn http_ingress_path(causes: &mut Causes, http_path: &Value, path: &str, relaxed_names: bool) {
    let Some(path_type) = get(Some(http_path), "pathType") else {
        required(causes, &format!("{path}.pathType"), "pathType must be specified");
        return;
    };
    let path_type = path_type.as_str().unwrap_or_default();
    let value = text(Some(http_path), "path");
    let path_field = format!("{path}.path");
    match path_type {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                invalid(causes, &path_field, value, "must be an absolute path");
            }
            if !value.is_empty() {
                for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                    if value.contains(seq) {
                        invalid(causes, &path_field, value, &format!("must not contain '{seq}'"));
                    }
                }
                for suffix in ["/..", "/."] {
                    if value.ends_with(suffix) {
                        invalid(causes, &path_field, value, &format!("cannot end with '{suffix}'"));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                invalid(causes, &path_field, value, "must be an absolute path");
            }
        }
        other => not_supported(
            causes,
            &format!("{path}.pathType"),
            other,
            &["Exact", "ImplementationSpecific", "Prefix"],
        ),
    }
    let backend = http_path.get("backend").cloned().unwrap_or(Value::Null);
    ingress_backend(causes, &backend, &format!("{path}.backend"), relaxed_names);
}

/// `validateIngressBackend`: exactly one of a resource or a service, a service named by a
/// DNS label with a port name or number.
fn ingress_backend(causes: &mut Causes, backend: &Value, path: &str, relaxed_names: bool) {
    let resource = get(Some(backend), "resource");
    let service = get(Some(backend), "service");
    match (resource, service) {
        (Some(_), Some(_)) => invalid(causes, path, "", "cannot set both resource and service backends"),
        (Some(resource), None) => typed_local_object_reference(causes, resource, &format!("{path}.resource")),
        (None, Some(service)) => {
            let name = text(Some(service), "name");
            if name.is_empty() {
                required(causes, &format!("{path}.service.name"), "");
            } else {
                let msgs = if relaxed_names {
                    dns1123_label(name)
                } else {
                    dns1035_label(name)
                };
                for msg in msgs {
                    invalid(causes, &format!("{path}.service.name"), name, &msg);
                }
            }
            let port = get(Some(service), "port");
            let port_name_value = text(port, "name");
            let number = get(port, "number").and_then(Value::as_i64).unwrap_or(0);
            match (!port_name_value.is_empty(), number != 0) {
                (true, true) => invalid(causes, path, "", "cannot set both port name & port number"),
                (true, false) => {
                    for msg in port_name(port_name_value) {
                        invalid(causes, &format!("{path}.service.port.name"), port_name_value, &msg);
                    }
                }
                (false, true) => {
                    if let Some(msg) = port_num(number) {
                        invalid_raw(causes, &format!("{path}.service.port.number"), &number.to_string(), msg);
                    }
                }
                (false, false) => required(causes, path, "port name or number is required"),
            }
        }
        (None, None) => invalid(causes, path, "", "resource or service backend is required"),
    }
}

/// `validateIngressTypedLocalObjectReference` (a resource backend).
fn typed_local_object_reference(causes: &mut Causes, reference: &Value, path: &str) {
    if let Some(group) = get(Some(reference), "apiGroup").and_then(Value::as_str) {
        for msg in dns1123_subdomain(group) {
            invalid(causes, &format!("{path}.apiGroup"), group, &msg);
        }
    }
    for field in ["kind", "name"] {
        let value = text(Some(reference), field);
        if value.is_empty() {
            required(causes, &format!("{path}.{field}"), "");
        } else {
            for msg in path_segment_name(value) {
                invalid(causes, &format!("{path}.{field}"), value, &msg);
            }
        }
    }
}

/// `NetworkPolicyValidationOptions`.
#[derive(Default)]
struct PolicyOptions<'a> {
    /// `AllowInvalidLabelValueInSelector`: the old pod selector was invalid.
    invalid_label_values: bool,
    /// `AllowCIDRsEvenIfInvalid`: every CIDR of the old policy.
    old_cidrs: Vec<&'a str>,
}

/// NetworkPolicy: `ValidateNetworkPolicySpec` on create and update.
#[derive(Debug)]
pub(crate) struct NetworkPolicyHooks;

impl KindHooks for NetworkPolicyHooks {
    /// `ValidateNetworkPolicy`.
    fn validate(&self, object: &Object, causes: &mut Causes) {
        network_policy_spec(causes, object.body.get("spec"), &PolicyOptions::default());
    }

    /// `ValidateNetworkPolicyUpdate`, with `ValidationOptionsForNetworking` of the old policy.
    fn validate_update(&self, new: &Object, old: &Object, causes: &mut Causes) {
        let old_spec = old.body.get("spec");
        let mut old_cidrs = Vec::new();
        for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
            for rule in items(old_spec, direction) {
                for peer in items(Some(rule), peers) {
                    if let Some(block) = get(Some(peer), "ipBlock") {
                        old_cidrs.push(text(Some(block), "cidr"));
                        old_cidrs.extend(items(Some(block), "except").iter().filter_map(Value::as_str));
                    }
                }
            }
        }
        let opts = PolicyOptions {
            invalid_label_values: selector_has_errors(get(old_spec, "podSelector")),
            old_cidrs,
        };
        network_policy_spec(causes, new.body.get("spec"), &opts);
    }
}

/// `ValidateNetworkPolicySpec`.
fn network_policy_spec(causes: &mut Causes, spec: Option<&Value>, opts: &PolicyOptions<'_>) {
    // `podSelector` is a struct in Go: an absent one is the empty selector.
    validate_label_selector(
        get(spec, "podSelector"),
        "spec.podSelector",
        opts.invalid_label_values,
        causes,
    );
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in items(spec, direction).iter().enumerate() {
            let path = format!("spec.{direction}[{i}]");
            for (j, port) in items(Some(rule), "ports").iter().enumerate() {
                network_policy_port(causes, port, &format!("{path}.ports[{j}]"));
            }
            for (j, peer) in items(Some(rule), peers).iter().enumerate() {
                network_policy_peer(causes, peer, &format!("{path}.{peers}[{j}]"), opts);
            }
        }
    }
    let types = items(spec, "policyTypes");
    if types.len() > 2 {
        let shown = serde_json::to_string(types).unwrap_or_default();
        invalid_raw(
            causes,
            "spec.policyTypes",
            &shown,
            "may not specify more than two policyTypes",
        );
        return;
    }
    for (i, policy_type) in types.iter().enumerate() {
        let policy_type = policy_type.as_str().unwrap_or_default();
        if !matches!(policy_type, "Ingress" | "Egress") {
            not_supported(
                causes,
                &format!("spec.policyTypes[{i}]"),
                policy_type,
                &["Ingress", "Egress"],
            );
        }
    }
}

/// `ValidateNetworkPolicyPort`: protocol, a port number or name, and an end port only after a
/// port number.
fn network_policy_port(causes: &mut Causes, port: &Value, path: &str) {
    if let Some(protocol) = get(Some(port), "protocol").and_then(Value::as_str)
        && !matches!(protocol, "TCP" | "UDP" | "SCTP")
    {
        not_supported(causes, &format!("{path}.protocol"), protocol, &["TCP", "UDP", "SCTP"]);
    }
    let end_port = get(Some(port), "endPort").and_then(Value::as_i64);
    let end_path = format!("{path}.endPort");
    match get(Some(port), "port") {
        Some(Value::String(name)) => {
            if let Some(end) = end_port {
                invalid_raw(
                    causes,
                    &end_path,
                    &end.to_string(),
                    "may not be specified when `port` is non-numeric",
                );
            }
            for msg in port_name(name) {
                invalid(causes, &format!("{path}.port"), name, &msg);
            }
        }
        Some(number) => {
            let number = number.as_i64().unwrap_or(0);
            if let Some(msg) = port_num(number) {
                invalid_raw(causes, &format!("{path}.port"), &number.to_string(), msg);
            }
            if let Some(end) = end_port {
                if end < number {
                    invalid_raw(
                        causes,
                        &end_path,
                        &end.to_string(),
                        "must be greater than or equal to `port`",
                    );
                }
                if let Some(msg) = port_num(end) {
                    invalid_raw(causes, &end_path, &end.to_string(), msg);
                }
            }
        }
        None => {
            if let Some(end) = end_port {
                invalid_raw(
                    causes,
                    &end_path,
                    &end.to_string(),
                    "may not be specified when `port` is not specified",
                );
            }
        }
    }
}

/// `ValidateNetworkPolicyPeer`: at least one selector or an IP block, and an IP block alone.
fn network_policy_peer(causes: &mut Causes, peer: &Value, path: &str, opts: &PolicyOptions<'_>) {
    let mut peers = 0;
    for selector in ["podSelector", "namespaceSelector"] {
        if let Some(value) = get(Some(peer), selector) {
            peers += 1;
            validate_label_selector(
                Some(value),
                &format!("{path}.{selector}"),
                opts.invalid_label_values,
                causes,
            );
        }
    }
    let block = get(Some(peer), "ipBlock");
    if let Some(block) = block {
        peers += 1;
        ip_block(causes, block, &format!("{path}.ipBlock"), opts);
    }
    if peers == 0 {
        required(causes, path, "must specify a peer");
    } else if peers > 1 && block.is_some() {
        causes.forbidden(path, "may not specify both ipBlock and another peer");
    }
}

/// `ValidateIPBlock`: a valid CIDR, and exceptions strictly inside it.
fn ip_block(causes: &mut Causes, block: &Value, path: &str, opts: &PolicyOptions<'_>) {
    let cidr = text(Some(block), "cidr");
    if cidr.is_empty() {
        required(causes, &format!("{path}.cidr"), "");
        return;
    }
    let Some(network) = legacy_cidr(causes, &format!("{path}.cidr"), cidr, &opts.old_cidrs) else {
        return;
    };
    for (i, except) in items(Some(block), "except").iter().enumerate() {
        let except = except.as_str().unwrap_or_default();
        let except_path = format!("{path}.except[{i}]");
        let Some((except_ip, except_len)) = legacy_cidr(causes, &except_path, except, &opts.old_cidrs) else {
            continue;
        };
        if !cidr_contains(network, except_ip) || network.1 >= except_len {
            invalid(causes, &except_path, except, "must be a strict subset of `cidr`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::TypeRef;
    use serde_json::json;

    fn object(kind: &str, body: Value) -> Object {
        let mut o = Object::new(&TypeRef::new("networking.k8s.io/v1", kind), Some("ns"), "o");
        if let Value::Object(map) = body {
            o.body.extend(map);
        }
        o
    }

    /// The (field, message) pairs of a create validation.
    fn create(hooks: &dyn KindHooks, kind: &str, body: Value) -> Vec<(String, String)> {
        let mut causes = Causes::default();
        hooks.validate(&object(kind, body), &mut causes);
        errors(causes)
    }

    fn errors(causes: Causes) -> Vec<(String, String)> {
        match causes.into_result("K", "o") {
            Ok(()) => Vec::new(),
            Err(e) => e
                .causes()
                .iter()
                .map(|c| (c.field.clone(), c.message.clone()))
                .collect(),
        }
    }

    fn ingress_rule(host: Option<&str>, path: &str, path_type: &str, port: Value) -> Value {
        let mut rule = json!({"http": {"paths": [{"path": path, "pathType": path_type,
            "backend": {"service": {"name": "svc-0", "port": port}}}]}});
        if let Some(host) = host {
            rule["host"] = json!(host);
        }
        json!({"spec": {"rules": [rule]}})
    }

    #[test]
    fn ingress_paths_and_backends() {
        let ok = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(Some("a.example.com"), "/api", "Prefix", json!({"number": 80})),
        );
        assert!(ok.is_empty(), "{ok:?}");
        let ok = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(Some("*.example.com"), "/", "Exact", json!({"name": "http"})),
        );
        assert!(ok.is_empty(), "{ok:?}");
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(None, "relative", "Prefix", json!({"number": 0})),
        );
        assert_eq!(
            errs,
            vec![
                (
                    "spec.rules[0].http.paths[0].path".to_owned(),
                    "Invalid value: \"relative\": must be an absolute path".to_owned()
                ),
                (
                    "spec.rules[0].http.paths[0].backend".to_owned(),
                    "Required value: port name or number is required".to_owned()
                ),
            ]
        );
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(None, "relative", "ImplementationSpecific", json!({"number": 80})),
        );
        assert_eq!(errs.len(), 1);
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(None, "/", "Bogus", json!({"number": 80})),
        );
        assert_eq!(
            errs[0].1,
            "Unsupported value: \"Bogus\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""
        );
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(Some("Bad_Host"), "/", "Prefix", json!({"number": 80})),
        );
        assert_eq!(errs[0].0, "spec.rules[0].host");
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(Some("1.2.3.4"), "/", "Prefix", json!({"number": 80})),
        );
        assert_eq!(
            errs[0].1,
            "Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address"
        );
        let errs = create(
            &IngressHooks,
            "Ingress",
            ingress_rule(None, "/a//b", "Exact", json!({"number": 70000})),
        );
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn ingress_needs_rules_or_a_default_backend() {
        let errs = create(&IngressHooks, "Ingress", json!({"spec": {"ingressClassName": "nginx"}}));
        assert_eq!(errs[0].0, "spec");
        let resource = json!({"resource": {"apiGroup": "example.com", "kind": "Bucket", "name": "b"}});
        assert!(create(&IngressHooks, "Ingress", json!({"spec": {"defaultBackend": resource}})).is_empty());
        let both =
            json!({"resource": {"kind": "Bucket", "name": "b"}, "service": {"name": "s", "port": {"number": 1}}});
        assert_eq!(
            create(&IngressHooks, "Ingress", json!({"spec": {"defaultBackend": both}})).len(),
            1
        );
        let bad = json!({"resource": {"kind": "a/b", "name": ""}});
        assert_eq!(
            create(&IngressHooks, "Ingress", json!({"spec": {"defaultBackend": bad}})).len(),
            2
        );
    }

    #[test]
    fn ingress_tls_class_and_annotation() {
        let mut body = ingress_rule(None, "/", "Prefix", json!({"number": 80}));
        body["spec"]["tls"] = json!([{"hosts": ["a.example.com", "*.b.com"], "secretName": "tls"}]);
        body["spec"]["ingressClassName"] = json!("nginx");
        assert!(create(&IngressHooks, "Ingress", body.clone()).is_empty());
        body["spec"]["tls"] = json!([{"hosts": ["A"], "secretName": "Bad"}]);
        body["spec"]["ingressClassName"] = json!("Bad");
        assert_eq!(create(&IngressHooks, "Ingress", body.clone()).len(), 3);

        let mut ing = object("Ingress", ingress_rule(None, "/", "Prefix", json!({"number": 80})));
        ing.body["spec"]["ingressClassName"] = json!("nginx");
        ing.metadata.annotations = Some([(INGRESS_CLASS_ANNOTATION.to_owned(), "other".to_owned())].into());
        let mut causes = Causes::default();
        IngressHooks.validate(&ing, &mut causes);
        assert_eq!(errors(causes)[0].0, "annotations.kubernetes.io/ingress.class");
        // Only a create checks the annotation.
        let mut causes = Causes::default();
        IngressHooks.validate_update(&ing, &ing, &mut causes);
        assert!(causes.is_empty());
    }

    #[test]
    fn ingress_update_and_status() {
        let old = object("Ingress", ingress_rule(None, "/", "Prefix", json!({"number": 80})));
        let mut new = old.clone();
        new.body["spec"].as_object_mut().unwrap().remove("rules");
        let mut causes = Causes::default();
        IngressHooks.validate_update(&new, &old, &mut causes);
        assert_eq!(
            errors(causes)[0].1,
            "Invalid value: null: either `defaultBackend` or `rules` must be specified"
        );

        // What the old Ingress already had stays accepted: an invalid TLS secret name, and
        // the rules of an invalid wildcard-host rule.
        let mut lax = old.clone();
        lax.body["spec"]["tls"] = json!([{"secretName": "Bad_Name"}]);
        lax.body["spec"]["rules"][0]["host"] = json!("*.example.com");
        lax.body["spec"]["rules"][0]["http"]["paths"][0]["path"] = json!("relative");
        let mut causes = Causes::default();
        IngressHooks.validate(&lax, &mut causes);
        assert_eq!(errors(causes).len(), 2);
        let mut causes = Causes::default();
        IngressHooks.validate_update(&lax, &lax, &mut causes);
        assert!(causes.is_empty());

        let mut new = old.clone();
        new.body.insert(
            "status".into(),
            json!({"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}]}}),
        );
        let mut causes = Causes::default();
        IngressHooks.validate_status_update(&new, &old, &mut causes);
        assert!(causes.is_empty());
        new.body.insert(
            "status".into(),
            json!({"loadBalancer": {"ingress": [{"ip": "nope", "hostname": "1.2.3.4"}]}}),
        );
        let mut causes = Causes::default();
        IngressHooks.validate_status_update(&new, &old, &mut causes);
        assert_eq!(errors(causes).len(), 2);
    }

    fn policy(spec: Value) -> Value {
        json!({ "spec": spec })
    }

    #[test]
    fn network_policy_types_and_ports() {
        let hooks = NetworkPolicyHooks;
        let ok = policy(
            json!({"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 80, "endPort": 90, "protocol": "TCP"},
                {"port": "http", "protocol": "UDP"}, {"protocol": "SCTP"}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]}),
        );
        assert!(create(&hooks, "NetworkPolicy", ok).is_empty());
        let errs = create(
            &hooks,
            "NetworkPolicy",
            policy(json!({"podSelector": {}, "policyTypes": ["Bogus"]})),
        );
        assert_eq!(
            errs,
            vec![(
                "spec.policyTypes[0]".to_owned(),
                "Unsupported value: \"Bogus\": supported values: \"Ingress\", \"Egress\"".to_owned()
            )]
        );
        let errs = create(
            &hooks,
            "NetworkPolicy",
            policy(json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress", "Ingress"]})),
        );
        assert_eq!(errs[0].0, "spec.policyTypes");
        let bad_ports = policy(json!({"podSelector": {}, "ingress": [{"ports": [
            {"port": 90, "endPort": 80}, {"port": "http", "endPort": 80}, {"endPort": 80},
            {"port": 0, "protocol": "ICMP"}, {"port": "80"}]}]}));
        let errs = create(&hooks, "NetworkPolicy", bad_ports);
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.ingress[0].ports[0].endPort",
                "spec.ingress[0].ports[1].endPort",
                "spec.ingress[0].ports[2].endPort",
                "spec.ingress[0].ports[3].protocol",
                "spec.ingress[0].ports[3].port",
                "spec.ingress[0].ports[4].port",
            ]
        );
    }

    #[test]
    fn network_policy_peers_and_blocks() {
        let hooks = NetworkPolicyHooks;
        let errs = create(
            &hooks,
            "NetworkPolicy",
            policy(
                json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
                "egress": [{"to": [{}, {"podSelector": {}, "ipBlock": {"cidr": "10.0.0.0/8"}},
                    {"ipBlock": {"cidr": "10.0.0.1/8", "except": ["11.0.0.0/16", "10.0.0.0/8"]}},
                    {"ipBlock": {"cidr": ""}}]}]}),
            ),
        );
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "spec.podSelector.matchExpressions[0].values",
                "spec.egress[0].to[0]",
                "spec.egress[0].to[1]",
                "spec.egress[0].to[2].ipBlock.cidr",
                "spec.egress[0].to[2].ipBlock.except[0]",
                "spec.egress[0].to[2].ipBlock.except[1]",
                "spec.egress[0].to[3].ipBlock.cidr",
            ]
        );
        // An update keeps accepting the old policy's invalid selector values and CIDRs.
        let lax = object(
            "NetworkPolicy",
            policy(
                json!({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": ["bad value"]}]}}),
            ),
        );
        let mut causes = Causes::default();
        hooks.validate(&lax, &mut causes);
        assert_eq!(errors(causes).len(), 1);
        let mut causes = Causes::default();
        hooks.validate_update(&lax, &lax, &mut causes);
        assert!(causes.is_empty());
        let old = object(
            "NetworkPolicy",
            policy(json!({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.1/8"}}]}]})),
        );
        let mut causes = Causes::default();
        hooks.validate_update(&old, &old, &mut causes);
        assert!(causes.is_empty());
    }
}
