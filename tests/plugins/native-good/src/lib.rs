//! A native plugin speaking ABI 1 and sqlmig:plugin 0.1.0. The layout mirrors
//! host/src/plugins/native.rs (and docs/native-plugins.md).

use std::ffi::{CStr, c_char};

#[repr(C)]
pub struct NativeBuffer {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

#[repr(C)]
pub struct NativePluginV1 {
    abi_version: u32,
    api_version: *const c_char,
    name: *const c_char,
    version: *const c_char,
    call: unsafe extern "C" fn(*const c_char, *const u8, usize, *mut NativeBuffer) -> i32,
    free: unsafe extern "C" fn(NativeBuffer),
}

// SAFETY: every pointer in it is to a static C string, never written.
unsafe impl Sync for NativePluginV1 {}

#[unsafe(no_mangle)]
pub static SQLMIG_NATIVE_PLUGIN: NativePluginV1 = NativePluginV1 {
    abi_version: 1,
    api_version: c"0.1.0".as_ptr(),
    name: c"native-good".as_ptr(),
    version: c"1.0.0".as_ptr(),
    call,
    free,
};

fn give(out: *mut NativeBuffer, text: String) {
    let mut bytes = text.into_bytes();
    let buf = NativeBuffer {
        ptr: bytes.as_mut_ptr(),
        len: bytes.len(),
        cap: bytes.capacity(),
    };
    std::mem::forget(bytes);
    // SAFETY: the host passes a valid pointer to write the answer to.
    unsafe { out.write(buf) };
}

/// describe → info JSON; validate → echoes the request; others → unsupported.
unsafe extern "C" fn call(
    hook: *const c_char,
    input: *const u8,
    len: usize,
    out: *mut NativeBuffer,
) -> i32 {
    // SAFETY: the host passes a NUL-terminated hook name and `len` readable bytes.
    let hook = unsafe { CStr::from_ptr(hook) }
        .to_string_lossy()
        .into_owned();
    let input = unsafe { std::slice::from_raw_parts(input, len) };
    match hook.as_str() {
        "describe" => {
            give(
                out,
                r#"{"name":"native-good","version":"1.0.0","summary":"a trusted native plugin"}"#
                    .into(),
            );
            0
        }
        "validate" => {
            give(
                out,
                format!(r#"{{"echo":{}}}"#, String::from_utf8_lossy(input)),
            );
            0
        }
        other => {
            give(
                out,
                format!(
                    r#"{{"kind":"unsupported","message":"native-good does not implement {other}"}}"#
                ),
            );
            1
        }
    }
}

unsafe extern "C" fn free(buf: NativeBuffer) {
    // SAFETY: `buf` came from `give`, which leaked a Vec with this pointer, length and capacity.
    drop(unsafe { Vec::from_raw_parts(buf.ptr, buf.len, buf.cap) });
}
