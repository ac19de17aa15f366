//! Bindings of the `sqlmig:plugin` contract, one module per supported API line.

/// The 0.1 line of the contract (`wit/` at sqlmig:plugin@0.1.1).
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "plugin",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "sqlmig:plugin/sql.connection": crate::capabilities::sql::ConnectionHandle,
            "sqlmig:plugin/sql.row-stream": crate::capabilities::sql::RowStreamHandle,
            "sqlmig:plugin/blob.container": crate::capabilities::blob::ContainerHandle,
        },
    });
}
