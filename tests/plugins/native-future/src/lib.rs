//! A native plugin claiming ABI 2, which the host does not speak: it must be refused before any
//! of its functions is called. Only the leading version field is meaningful.

#[repr(C)]
pub struct NativePluginV2 {
    abi_version: u32,
    reserved: [u64; 8],
}

#[unsafe(no_mangle)]
pub static SQLMIG_NATIVE_PLUGIN: NativePluginV2 = NativePluginV2 {
    abi_version: 2,
    reserved: [0; 8],
};
