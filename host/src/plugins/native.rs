//! Native plugins: shared libraries for vendors who cannot ship WebAssembly. They run
//! unsandboxed with the host's full authority, so they load only with explicit trust, and their
//! ABI and contract versions are checked before any of their functions is called.
//!
//! The library exports one data symbol, `SQLMIG_NATIVE_PLUGIN`, of this C layout:
//!
//! ```c
//! struct sqlmig_buffer { uint8_t *ptr; size_t len; size_t cap; };
//! struct sqlmig_native_plugin_v1 {
//!     uint32_t abi_version;              /* 1 */
//!     const char *api_version;           /* the sqlmig:plugin version it implements, "0.1.0" */
//!     const char *name, *version;
//!     int32_t (*call)(const char *hook, const uint8_t *input, size_t len, struct sqlmig_buffer *out);
//!     void (*free)(struct sqlmig_buffer);
//! };
//! ```
//!
//! `call` gets the hook's input document and answers with a JSON document (0) or an error
//! object `{"kind": "...", "message": "..."}` (non-zero); the host hands every answer back to
//! `free`. `describe` answers `{"name", "version", "summary"}`.

use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};

use semver::Version;

use crate::runtime::versions;

/// The native ABI this host speaks.
pub const NATIVE_ABI_VERSION: u32 = 1;
/// The data symbol a native plugin exports.
pub const NATIVE_SYMBOL: &[u8] = b"SQLMIG_NATIVE_PLUGIN";

/// An answer buffer allocated by the plugin.
#[repr(C)]
struct NativeBuffer {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

/// Layout of ABI version 1.
#[repr(C)]
struct NativePluginV1 {
    abi_version: u32,
    api_version: *const c_char,
    name: *const c_char,
    version: *const c_char,
    call: unsafe extern "C" fn(*const c_char, *const u8, usize, *mut NativeBuffer) -> i32,
    free: unsafe extern "C" fn(NativeBuffer),
}

/// Why a native plugin was not loaded or failed.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error(
        "native plugin {path} is not sandboxed and runs with all of sqlmig's rights; load it only \
         if you trust its vendor: pass --allow-native, or set allow_native = true under \
         [plugins.NAME] in sqlmig.toml"
    )]
    NotTrusted { path: String },
    #[error("native plugin {path}: cannot be loaded: {detail}")]
    Load { path: String, detail: String },
    #[error(
        "native plugin {path} speaks native ABI {found}, but this sqlmig {host} speaks ABI \
         {NATIVE_ABI_VERSION}; ask its vendor for a build for this sqlmig"
    )]
    AbiMismatch {
        path: String,
        found: u32,
        host: &'static str,
    },
    #[error(
        "native plugin {plugin} implements sqlmig:plugin@{plugin_api}, but this sqlmig {host} \
         supports sqlmig:plugin {supported}"
    )]
    IncompatibleApi {
        plugin: String,
        plugin_api: String,
        host: &'static str,
        supported: String,
    },
    #[error("native plugin {plugin}: hook {hook} failed: {kind}: {message}")]
    Failed {
        plugin: String,
        hook: String,
        kind: String,
        message: String,
    },
}

/// A loaded, version-checked native plugin.
pub struct NativePlugin {
    /// `name version`.
    pub label: String,
    /// The contract version it implements.
    pub api: Version,
    /// Where it was loaded from.
    pub path: PathBuf,
    vtable: *const NativePluginV1,
    // Kept last so the library is unloaded after nothing can point into it.
    _lib: libloading::Library,
}

// SAFETY: the vtable points into the library's static data, which lives as long as `_lib`; the
// ABI requires `call` and `free` to be callable from any thread.
unsafe impl Send for NativePlugin {}
unsafe impl Sync for NativePlugin {}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the ABI requires NUL-terminated static strings.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl NativePlugin {
    /// Loads the library at `path` when `trusted`; checks the ABI version (reading one field,
    /// calling nothing) and then the contract version.
    pub fn load(path: &Path, trusted: bool) -> Result<NativePlugin, NativeError> {
        let shown = path.display().to_string();
        if !trusted {
            return Err(NativeError::NotTrusted { path: shown });
        }
        // Trusting a library means trusting what was installed: not a file another user could
        // have put in its place.
        // (A bare name is the system loader's to find, not a store file.)
        let private = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => crate::private_files::check_folder(dir, "plugin store")
                .map_err(|e| e.to_string())
                .and_then(|()| crate::private_files::read(path).map(|_| ())),
            None => Ok(()),
        };
        if let Err(detail) = private {
            return Err(NativeError::Load {
                path: shown,
                detail: format!("{detail}; refusing to load it: reinstall the plugin"),
            });
        }
        // SAFETY: the operator trusted this library; loading runs its initializers.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| NativeError::Load {
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        // SAFETY: for a data symbol, `get::<*const T>` yields the symbol's address.
        let vtable: *const NativePluginV1 = unsafe {
            *lib.get::<*const NativePluginV1>(NATIVE_SYMBOL)
                .map_err(|e| NativeError::Load {
                    path: shown.clone(),
                    detail: format!(
                        "it exports no {} symbol ({e}); it is not a sqlmig native plugin",
                        String::from_utf8_lossy(NATIVE_SYMBOL)
                    ),
                })?
        };
        // Only the leading u32 is common to every ABI version: read it before anything else.
        // SAFETY: the symbol points at a struct starting with a u32 in every ABI version.
        let abi = unsafe { std::ptr::read(vtable as *const u32) };
        if abi != NATIVE_ABI_VERSION {
            return Err(NativeError::AbiMismatch {
                path: shown,
                found: abi,
                host: crate::HOST_VERSION,
            });
        }
        // SAFETY: ABI 1 established the layout.
        let v = unsafe { &*vtable };
        let label = format!("{} {}", cstr(v.name), cstr(v.version));
        let api_text = cstr(v.api_version);
        let api = Version::parse(&api_text)
            .ok()
            .filter(|api| versions::compatible_line(api).is_some())
            .ok_or_else(|| NativeError::IncompatibleApi {
                plugin: label.clone(),
                plugin_api: api_text.clone(),
                host: crate::HOST_VERSION,
                supported: versions::supported_range(),
            })?;
        Ok(NativePlugin {
            label,
            api,
            path: path.to_path_buf(),
            vtable,
            _lib: lib,
        })
    }

    /// Calls `hook` with an input document; the answer document or the plugin's error.
    pub fn call(&self, hook: &str, input: &str) -> Result<String, NativeError> {
        // SAFETY: checked in `load`; the library is alive as long as `self`.
        let v = unsafe { &*self.vtable };
        let hook_c = CString::new(hook).expect("hook names have no NUL");
        let mut out = NativeBuffer {
            ptr: std::ptr::null_mut(),
            len: 0,
            cap: 0,
        };
        // SAFETY: arguments follow the ABI; `out` is written by the plugin.
        let rc = unsafe { (v.call)(hook_c.as_ptr(), input.as_ptr(), input.len(), &mut out) };
        let text = if out.ptr.is_null() {
            String::new()
        } else {
            // SAFETY: the plugin wrote `len` initialized bytes at `ptr`.
            let bytes = unsafe { std::slice::from_raw_parts(out.ptr, out.len) };
            let text = String::from_utf8_lossy(bytes).into_owned();
            // SAFETY: handing the buffer back to the allocator that made it.
            unsafe { (v.free)(out) };
            text
        };
        if rc == 0 {
            return Ok(text);
        }
        let err: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Err(NativeError::Failed {
            plugin: self.label.clone(),
            hook: hook.to_string(),
            kind: err["kind"].as_str().unwrap_or("error").to_string(),
            message: err["message"].as_str().unwrap_or(&text).to_string(),
        })
    }
}
