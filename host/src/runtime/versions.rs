//! Which versions of the `sqlmig:plugin` contract this host speaks, and how a component's version
//! is read and judged before it is instantiated.

use semver::{Version, VersionReq};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The WIT package every plugin is built against.
pub const API_PACKAGE: &str = "sqlmig:plugin";

/// The API lines this host implements, newest first, each with its glue module in `runtime::wit`.
/// The newest is the WIT's (`wit/`, read at build time); 0.1 is frozen under `wit/frozen/0.1/`
/// (0.1.1 added the `credentials` interface; components built against 0.1.0 link to it
/// unchanged, as wasmtime matches semver-compatible names both ways).
pub const SUPPORTED_LINES: &[&str] = &[
    sqlmig_protocol::CONTRACT_VERSION,
    super::wit::since_v0_1::VERSION,
];

/// The newest contract version this host implements.
pub fn current_api() -> Version {
    Version::parse(SUPPORTED_LINES[0]).expect("SUPPORTED_LINES holds valid versions")
}

/// A human-readable range of the versions this host accepts, e.g. `0.1.x (>=0.1.0, <0.2.0)`.
pub fn supported_range() -> String {
    SUPPORTED_LINES
        .iter()
        .map(|v| {
            let v = Version::parse(v).expect("valid");
            let (lo, hi) = line_bounds(&v);
            format!("{} (>={lo}, <{hi})", line_name(&v))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `0.1.x` for 0.1.y, `1.x` for 1.y.z: the set of versions semver calls compatible.
fn line_name(v: &Version) -> String {
    if v.major == 0 {
        format!("0.{}.x", v.minor)
    } else {
        format!("{}.x", v.major)
    }
}

fn line_bounds(v: &Version) -> (Version, Version) {
    if v.major == 0 {
        (Version::new(0, v.minor, 0), Version::new(0, v.minor + 1, 0))
    } else {
        (Version::new(v.major, 0, 0), Version::new(v.major + 1, 0, 0))
    }
}

/// The supported line a guest built against `guest` runs on, if any.
///
/// A guest is accepted when it is semver-compatible with a line the host implements and not newer
/// than it in a way that could add API (minor versions add; patch versions do not): a guest built
/// against 0.1.3 runs on a 0.1.0 host, one built against 0.2.0 does not.
pub fn compatible_line(guest: &Version) -> Option<Version> {
    SUPPORTED_LINES.iter().find_map(|line| {
        let host = Version::parse(line).expect("valid");
        let same_line = if host.major == 0 {
            guest.major == 0 && guest.minor == host.minor
        } else {
            guest.major == host.major && guest.minor <= host.minor
        };
        same_line.then_some(host)
    })
}

/// Whether a manifest's `api` requirement admits a version this host implements.
pub fn requirement_supported(req: &VersionReq) -> bool {
    SUPPORTED_LINES
        .iter()
        .any(|line| req.matches(&Version::parse(line).expect("valid")))
}

/// Why a component's contract version cannot be read from its names.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("`{name}` carries no version")]
    Missing { name: String },
    #[error("`{name}` has an invalid version: {error}")]
    Invalid { name: String, error: String },
    #[error("it mixes contract versions {first} and {other} (`{name}`)")]
    Mixed {
        first: Version,
        other: Version,
        name: String,
    },
}

/// The `sqlmig:plugin` version a compiled component was built against, read from the names of
/// its imports and exports (`sqlmig:plugin/hooks@0.1.0`). `Ok(None)` means the component does not
/// use the contract at all.
pub fn component_api_version(
    engine: &Engine,
    component: &Component,
) -> Result<Option<Version>, VersionError> {
    let ty = component.component_type();
    let names = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .chain(ty.exports(engine).map(|(name, _)| name.to_string()));
    api_version_from_names(names)
}

/// The contract version named by a set of import/export names; they must agree.
pub fn api_version_from_names(
    names: impl IntoIterator<Item = String>,
) -> Result<Option<Version>, VersionError> {
    let prefix = format!("{API_PACKAGE}/");
    let mut found: Option<Version> = None;
    for name in names {
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Some((_, version)) = rest.split_once('@') else {
            return Err(VersionError::Missing { name });
        };
        let version = match Version::parse(version) {
            Ok(v) => v,
            Err(e) => {
                return Err(VersionError::Invalid {
                    error: e.to_string(),
                    name,
                });
            }
        };
        match &found {
            Some(v) if *v != version => {
                return Err(VersionError::Mixed {
                    first: v.clone(),
                    other: version,
                    name,
                });
            }
            _ => found = Some(version),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn same_line_patch_versions_are_compatible() {
        assert_eq!(compatible_line(&v("0.1.0")), Some(v("0.1.1")));
        assert_eq!(compatible_line(&v("0.1.7")), Some(v("0.1.1")));
        assert_eq!(compatible_line(&v("0.2.0")), Some(v("0.2.0")));
        assert_eq!(compatible_line(&v("0.2.3")), Some(v("0.2.0")));
    }

    #[test]
    fn other_lines_are_refused() {
        assert_eq!(compatible_line(&v("0.3.0")), None);
        assert_eq!(compatible_line(&v("0.0.9")), None);
        assert_eq!(compatible_line(&v("1.1.0")), None);
    }

    #[test]
    fn version_is_read_from_interface_names() {
        let names = [
            "wasi:cli/environment@0.2.0".to_string(),
            "sqlmig:plugin/log@0.1.0".to_string(),
            "sqlmig:plugin/hooks@0.1.0".to_string(),
        ];
        assert_eq!(api_version_from_names(names).unwrap(), Some(v("0.1.0")));
        assert_eq!(
            api_version_from_names(["wasi:io/poll@0.2.0".to_string()]).unwrap(),
            None
        );
    }

    #[test]
    fn mixed_versions_are_an_error() {
        let names = [
            "sqlmig:plugin/log@0.1.0".to_string(),
            "sqlmig:plugin/hooks@0.2.0".to_string(),
        ];
        let err = api_version_from_names(names).unwrap_err();
        assert!(
            matches!(&err, VersionError::Mixed { first, other, .. } if *first == v("0.1.0") && *other == v("0.2.0")),
            "{err}"
        );
    }

    #[test]
    fn requirements_are_matched_against_supported_lines() {
        assert!(requirement_supported(&VersionReq::parse("^0.1").unwrap()));
        assert!(requirement_supported(
            &VersionReq::parse(">=0.1.0, <0.3.0").unwrap()
        ));
        assert!(requirement_supported(&VersionReq::parse("^0.2").unwrap()));
        assert!(!requirement_supported(&VersionReq::parse("^0.3").unwrap()));
    }

    #[test]
    fn range_text_names_the_line() {
        assert_eq!(
            supported_range(),
            "0.2.x (>=0.2.0, <0.3.0), 0.1.x (>=0.1.0, <0.2.0)"
        );
    }
}
