//! Request paths and query strings of the Kubernetes REST API, parsed into a [`Route`].

use std::collections::HashMap;

/// Where a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: every group.
    Groups,
    /// `/api/v1` or `/apis/{group}/{version}`: the resources of one group-version.
    Resources {
        /// `v1` or `group/version`.
        api_version: String,
    },
    /// `/apis/{group}`: one group.
    Group {
        /// The group name.
        group: String,
    },
    /// `/version`.
    Version,
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3`: the index.
    OpenApiV3Index,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`.
    OpenApiV3 {
        /// `v1` or `group/version`.
        api_version: String,
    },
    /// `/healthz`, `/readyz`, `/livez`.
    Health,
    /// A resource: a collection, an object, or a subresource.
    Resource(ResourcePath),
}

/// A path under a group-version naming a collection, an object or a subresource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResourcePath {
    /// `v1` or `group/version`.
    pub api_version: String,
    /// The namespace segment, when the path has one.
    pub namespace: Option<String>,
    /// The resource (plural) name.
    pub plural: String,
    /// The object name (None for a collection).
    pub name: Option<String>,
    /// The subresource (`status`, `scale`).
    pub subresource: Option<String>,
    /// Whether the legacy `/watch/` prefix was used.
    pub watch_prefix: bool,
}

/// Parses a request path; None when it names nothing the server serves.
pub(crate) fn parse(path: &str) -> Option<Route> {
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["api"] => Some(Route::CoreVersions),
        ["apis"] => Some(Route::Groups),
        ["version"] => Some(Route::Version),
        ["healthz" | "readyz" | "livez", ..] => Some(Route::Health),
        ["openapi", "v2"] => Some(Route::OpenApiV2),
        ["openapi", "v3"] => Some(Route::OpenApiV3Index),
        ["openapi", "v3", "api", version] => Some(Route::OpenApiV3 {
            api_version: (*version).to_owned(),
        }),
        ["openapi", "v3", "apis", group, version] => Some(Route::OpenApiV3 {
            api_version: format!("{group}/{version}"),
        }),
        ["api", version] => Some(Route::Resources {
            api_version: (*version).to_owned(),
        }),
        ["apis", group] => Some(Route::Group {
            group: (*group).to_owned(),
        }),
        ["apis", group, version] => Some(Route::Resources {
            api_version: format!("{group}/{version}"),
        }),
        ["api", version, rest @ ..] => resource((*version).to_owned(), rest),
        ["apis", group, version, rest @ ..] => resource(format!("{group}/{version}"), rest),
        _ => None,
    }
}

fn resource(api_version: String, rest: &[&str]) -> Option<Route> {
    let (watch_prefix, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    // `namespaces/{ns}/{plural}...` is namespaced unless the third segment is a subresource of
    // the Namespace object itself (`namespaces/{name}/status`, `.../finalize`).
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") || !tail.is_empty() => {
            (Some((*ns).to_owned()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, subresource) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some((*name).to_owned()), None),
        [plural, name, sub] => (*plural, Some((*name).to_owned()), Some((*sub).to_owned())),
        _ => return None,
    };
    Some(Route::Resource(ResourcePath {
        api_version,
        namespace,
        plural: plural.to_owned(),
        name,
        subresource,
        watch_prefix,
    }))
}

fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_owned();
    }
    // form_urlencoded decodes `+` as a space, which a path does not; protect it first.
    let protected = segment.replace('+', "%2B");
    form_urlencoded::parse(format!("x={protected}").as_bytes())
        .next()
        .map_or_else(|| segment.to_owned(), |(_, v)| v.into_owned())
}

/// The query string as a map (the last value of a repeated key wins).
#[derive(Clone, Debug, Default)]
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    /// Parses a query string.
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Self(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Sets a parameter.
    pub(crate) fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }

    /// A parameter, None when absent.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A non-empty parameter.
    pub(crate) fn non_empty(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// A boolean parameter (`true`, `1`).
    pub(crate) fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1" | "True"))
    }

    /// `dryRun=All`.
    pub(crate) fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Some(Route::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn core_and_grouped_namespaced_and_cluster_paths() {
        let r = res("/api/v1/namespaces/default/configmaps/a");
        assert_eq!(
            (
                r.api_version.as_str(),
                r.namespace.as_deref(),
                r.plural.as_str(),
                r.name.as_deref()
            ),
            ("v1", Some("default"), "configmaps", Some("a"))
        );
        let r = res("/apis/apps/v1/namespaces/ns/deployments/web/scale");
        assert_eq!(r.api_version, "apps/v1");
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        let r = res("/api/v1/namespaces/team");
        assert_eq!(
            (r.namespace, r.plural.as_str(), r.name.as_deref()),
            (None, "namespaces", Some("team"))
        );
        let r = res("/api/v1/namespaces/team/status");
        assert_eq!(
            (r.namespace, r.name.as_deref(), r.subresource.as_deref()),
            (None, Some("team"), Some("status"))
        );
        let r = res("/api/v1/namespaces/team/status/x");
        assert_eq!((r.namespace.as_deref(), r.plural.as_str()), (Some("team"), "status"));
        let r = res("/apis/example.com/v1/widgets");
        assert_eq!((r.namespace, r.name), (None, None));
        let r = res("/api/v1/watch/namespaces/a/pods");
        assert!(r.watch_prefix);
        assert_eq!(
            parse("/apis/apps/v1"),
            Some(Route::Resources {
                api_version: "apps/v1".into()
            })
        );
        assert_eq!(parse("/nothing/here"), None);
    }

    #[test]
    fn query_values_are_decoded() {
        let q = Query::parse(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&dryRun=All&watch=1"));
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.dry_run() && q.flag("watch"));
    }
}
