//! The imports of a contract line, implemented over the capability modules: each `Host` trait of
//! the line's bindings turns a plugin's call into a call of `crate::capabilities`, converting the
//! line's types to the host's and back. Nothing here decides anything: grant checks, limits and
//! redaction live in the capability modules.
//!
//! The 0.1 and 0.2 lines declare the same capabilities with the same shapes, so one macro
//! implements both: each line's module (`since_v0_1`, `since_v0_2`) brings its bindings into scope
//! as `w` and expands [`host_glue!`]. When a later line changes a capability, that line's module
//! implements the changed trait itself and the macro keeps serving the lines that did not change.

/// Implements every capability import of the bindings in scope as `w` (the line's
/// `sqlmig::plugin` module) for [`PluginState`](crate::runtime::instance::PluginState), with the
/// conversions between the line's types and the host's.
macro_rules! host_glue {
    () => {
        use wasmtime::component::Resource;

        use crate::capabilities::blob::{BlobItem, ContainerHandle};
        use crate::capabilities::sql::{
            Column, ConnectionHandle, Param, RowStreamHandle, SqlValue,
        };
        use crate::capabilities::{self as cap, CapabilityError, SqlErrorInfo};
        use crate::runtime::instance::PluginState;

        impl From<CapabilityError> for w::types::Error {
            fn from(e: CapabilityError) -> Self {
                use w::types::Error as E;
                match e {
                    CapabilityError::AccessDenied(m) => E::AccessDenied(m),
                    CapabilityError::NotFound(m) => E::NotFound(m),
                    CapabilityError::Timeout(m) => E::Timeout(m),
                    CapabilityError::Sql(i) => E::SqlError(w::types::SqlErrorInfo {
                        number: i.number,
                        state: i.state,
                        class: i.class,
                        message: i.message,
                        procedure: i.procedure,
                        line: i.line,
                    }),
                    CapabilityError::LimitExceeded(m) => E::LimitExceeded(m),
                    CapabilityError::Unsupported(m) => E::Unsupported(m),
                    CapabilityError::InvalidInput(m) => E::InvalidInput(m),
                    CapabilityError::Unavailable(m) => E::Unavailable(m),
                }
            }
        }

        impl From<w::types::Error> for CapabilityError {
            fn from(e: w::types::Error) -> Self {
                use w::types::Error as E;
                match e {
                    E::AccessDenied(m) => CapabilityError::AccessDenied(m),
                    E::NotFound(m) => CapabilityError::NotFound(m),
                    E::Timeout(m) => CapabilityError::Timeout(m),
                    E::SqlError(i) => CapabilityError::Sql(SqlErrorInfo {
                        number: i.number,
                        state: i.state,
                        class: i.class,
                        message: i.message,
                        procedure: i.procedure,
                        line: i.line,
                    }),
                    E::LimitExceeded(m) => CapabilityError::LimitExceeded(m),
                    E::Unsupported(m) => CapabilityError::Unsupported(m),
                    E::InvalidInput(m) => CapabilityError::InvalidInput(m),
                    E::Unavailable(m) => CapabilityError::Unavailable(m),
                }
            }
        }

        /// A capability's answer as the plugin receives it.
        fn answer<T, U: From<T>>(
            r: Result<T, CapabilityError>,
        ) -> wasmtime::Result<Result<U, w::types::Error>> {
            Ok(r.map(U::from).map_err(Into::into))
        }

        impl w::types::Host for PluginState {}

        impl From<w::sql::SqlValue> for SqlValue {
            fn from(v: w::sql::SqlValue) -> Self {
                use w::sql::SqlValue as V;
                match v {
                    V::Null => SqlValue::Null,
                    V::Bit(b) => SqlValue::Bit(b),
                    V::Int(i) => SqlValue::Int(i),
                    V::Float(f) => SqlValue::Float(f),
                    V::Decimal(s) => SqlValue::Decimal(s),
                    V::Text(s) => SqlValue::Text(s),
                    V::Binary(b) => SqlValue::Binary(b),
                    V::DateTime(s) => SqlValue::DateTime(s),
                    V::Guid(s) => SqlValue::Guid(s),
                }
            }
        }

        impl From<SqlValue> for w::sql::SqlValue {
            fn from(v: SqlValue) -> Self {
                use w::sql::SqlValue as V;
                match v {
                    SqlValue::Null => V::Null,
                    SqlValue::Bit(b) => V::Bit(b),
                    SqlValue::Int(i) => V::Int(i),
                    SqlValue::Float(f) => V::Float(f),
                    SqlValue::Decimal(s) => V::Decimal(s),
                    SqlValue::Text(s) => V::Text(s),
                    SqlValue::Binary(b) => V::Binary(b),
                    SqlValue::DateTime(s) => V::DateTime(s),
                    SqlValue::Guid(s) => V::Guid(s),
                }
            }
        }

        fn params(ps: Vec<w::sql::Param>) -> Vec<Param> {
            ps.into_iter()
                .map(|p| Param {
                    name: p.name,
                    value: p.value.into(),
                })
                .collect()
        }

        fn columns(cols: Vec<Column>) -> Vec<w::sql::Column> {
            cols.into_iter()
                .map(|c| w::sql::Column {
                    name: c.name,
                    type_name: c.type_name,
                    nullable: c.nullable,
                })
                .collect()
        }

        fn rows(rows: Vec<Vec<SqlValue>>) -> Vec<Vec<w::sql::SqlValue>> {
            rows.into_iter()
                .map(|r| r.into_iter().map(Into::into).collect())
                .collect()
        }

        impl w::sql::Host for PluginState {
            async fn connect(
                &mut self,
                endpoint: String,
            ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, w::types::Error>> {
                match cap::sql::connect(&self.call, &endpoint).await {
                    Ok(c) => Ok(Ok(self.table.push(c)?)),
                    Err(e) => Ok(Err(e.into())),
                }
            }
        }

        impl w::sql::HostConnection for PluginState {
            async fn query(
                &mut self,
                conn: Resource<ConnectionHandle>,
                statement: String,
                ps: Vec<w::sql::Param>,
            ) -> wasmtime::Result<Result<Vec<w::sql::RowSet>, w::types::Error>> {
                let conn = self.table.get_mut(&conn)?;
                let sets = conn.query(&self.call, &statement, &params(ps)).await;
                Ok(sets
                    .map(|sets| {
                        sets.into_iter()
                            .map(|s| w::sql::RowSet {
                                columns: columns(s.columns),
                                rows: rows(s.rows),
                            })
                            .collect()
                    })
                    .map_err(Into::into))
            }

            async fn execute(
                &mut self,
                conn: Resource<ConnectionHandle>,
                statement: String,
                ps: Vec<w::sql::Param>,
            ) -> wasmtime::Result<Result<u64, w::types::Error>> {
                let conn = self.table.get_mut(&conn)?;
                answer(conn.execute(&statement, &params(ps)).await)
            }

            async fn stream(
                &mut self,
                conn: Resource<ConnectionHandle>,
                statement: String,
                ps: Vec<w::sql::Param>,
            ) -> wasmtime::Result<Result<Resource<RowStreamHandle>, w::types::Error>> {
                let conn = self.table.get_mut(&conn)?;
                match conn.stream(&statement, &params(ps)).await {
                    Ok(s) => Ok(Ok(self.table.push(s)?)),
                    Err(e) => Ok(Err(e.into())),
                }
            }

            async fn drop(&mut self, conn: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
                self.table.delete(conn)?;
                Ok(())
            }
        }

        impl w::sql::HostRowStream for PluginState {
            async fn columns(
                &mut self,
                stream: Resource<RowStreamHandle>,
            ) -> wasmtime::Result<Vec<w::sql::Column>> {
                Ok(columns(self.table.get(&stream)?.columns()))
            }

            async fn next_batch(
                &mut self,
                stream: Resource<RowStreamHandle>,
                max_rows: u32,
            ) -> wasmtime::Result<Result<Vec<Vec<w::sql::SqlValue>>, w::types::Error>> {
                let stream = self.table.get_mut(&stream)?;
                let batch = stream.next_batch(&self.call, max_rows).await;
                Ok(batch.map(rows).map_err(Into::into))
            }

            async fn drop(&mut self, stream: Resource<RowStreamHandle>) -> wasmtime::Result<()> {
                self.table.delete(stream)?;
                Ok(())
            }
        }

        impl From<BlobItem> for w::blob::BlobItem {
            fn from(i: BlobItem) -> Self {
                w::blob::BlobItem {
                    name: i.name,
                    size: i.size,
                    blob_type: i.blob_type,
                }
            }
        }

        impl From<crate::storage::copy::CopyReport> for w::blob::CopyReport {
            fn from(r: crate::storage::copy::CopyReport) -> Self {
                w::blob::CopyReport {
                    bytes: r.bytes,
                    blocks_sent: r.blocks_sent,
                    blocks_skipped: r.blocks_skipped,
                    md5: r.md5,
                }
            }
        }

        impl w::blob::Host for PluginState {
            async fn open(
                &mut self,
                name: String,
            ) -> wasmtime::Result<Result<Resource<ContainerHandle>, w::types::Error>> {
                match cap::blob::open(&self.call, &name).await {
                    Ok(c) => Ok(Ok(self.table.push(c)?)),
                    Err(e) => Ok(Err(e.into())),
                }
            }
        }

        impl w::blob::HostContainer for PluginState {
            async fn put_block(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
                block_id: String,
                data: Vec<u8>,
            ) -> wasmtime::Result<Result<(), w::types::Error>> {
                answer(self.table.get(&c)?.put_block(&blob, &block_id, data).await)
            }

            async fn commit_block_list(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
                ids: Vec<String>,
            ) -> wasmtime::Result<Result<(), w::types::Error>> {
                answer(self.table.get(&c)?.commit_block_list(&blob, &ids).await)
            }

            async fn list(
                &mut self,
                c: Resource<ContainerHandle>,
                prefix: String,
            ) -> wasmtime::Result<Result<Vec<w::blob::BlobItem>, w::types::Error>> {
                let items = self.table.get(&c)?.list(&prefix).await;
                Ok(items
                    .map(|items| items.into_iter().map(Into::into).collect())
                    .map_err(Into::into))
            }

            async fn read_range(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
                offset: u64,
                length: u64,
            ) -> wasmtime::Result<Result<Vec<u8>, w::types::Error>> {
                answer(self.table.get(&c)?.read_range(&blob, offset, length).await)
            }

            async fn delete(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
            ) -> wasmtime::Result<Result<(), w::types::Error>> {
                answer(self.table.get(&c)?.delete(&blob).await)
            }

            async fn url(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
            ) -> wasmtime::Result<String> {
                Ok(self.table.get(&c)?.url(&blob))
            }

            async fn copy_from(
                &mut self,
                c: Resource<ContainerHandle>,
                blob: String,
                source: w::blob::CopySource,
            ) -> wasmtime::Result<Result<w::blob::CopyReport, w::types::Error>> {
                let source = crate::storage::copy::CopySource {
                    url: source.url,
                    headers: source.headers,
                    size: source.size,
                    md5: source.md5,
                };
                let c = self.table.get(&c)?;
                answer(c.copy_from(&self.call, &blob, source).await)
            }

            async fn drop(&mut self, c: Resource<ContainerHandle>) -> wasmtime::Result<()> {
                self.table.delete(c)?;
                Ok(())
            }
        }

        impl From<cap::http::HttpResponse> for w::http::Response {
            fn from(r: cap::http::HttpResponse) -> Self {
                w::http::Response {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }
            }
        }

        impl w::http::Host for PluginState {
            async fn send(
                &mut self,
                req: w::http::Request,
            ) -> wasmtime::Result<Result<w::http::Response, w::types::Error>> {
                let req = cap::http::HttpRequest {
                    method: req.method,
                    url: req.url,
                    headers: req.headers,
                    body: req.body,
                };
                answer(cap::http::send(&self.call, req).await)
            }
        }

        impl From<cap::net::Probe> for w::net::Probe {
            fn from(p: cap::net::Probe) -> Self {
                w::net::Probe {
                    host: p.host,
                    port: p.port,
                    open: p.result.open,
                    tds_version: p.result.tds_version,
                    error: p.result.error.map(Into::into),
                }
            }
        }

        impl w::net::Host for PluginState {
            async fn probe_tds(
                &mut self,
                targets: Vec<w::net::Target>,
                timeout_ms: u32,
            ) -> wasmtime::Result<Vec<w::net::Probe>> {
                let targets = targets.into_iter().map(|t| (t.host, t.port)).collect();
                let probes = cap::net::probe_tds(&self.call, targets, timeout_ms).await;
                Ok(probes.into_iter().map(Into::into).collect())
            }

            async fn browse(
                &mut self,
                hosts: Vec<String>,
                timeout_ms: u32,
            ) -> wasmtime::Result<Result<Vec<w::net::BrowsedInstance>, w::types::Error>> {
                let found = cap::net::browse(&self.call, &hosts, timeout_ms).await;
                Ok(found
                    .map(|found| {
                        found
                            .into_iter()
                            .map(|(host, i)| w::net::BrowsedInstance {
                                host,
                                server_name: i.server_name,
                                instance_name: i.instance_name,
                                version: i.version,
                                tcp_port: i.tcp_port,
                            })
                            .collect()
                    })
                    .map_err(Into::into))
            }
        }

        impl From<cap::fs::Entry> for w::fs::Entry {
            fn from(e: cap::fs::Entry) -> Self {
                w::fs::Entry {
                    path: e.path,
                    is_dir: e.is_dir,
                    size: e.size,
                }
            }
        }

        impl w::fs::Host for PluginState {
            async fn list(
                &mut self,
                folder: String,
                path: String,
            ) -> wasmtime::Result<Result<Vec<w::fs::Entry>, w::types::Error>> {
                let entries = cap::fs::list(&self.call, &folder, &path).await;
                Ok(entries
                    .map(|e| e.into_iter().map(Into::into).collect())
                    .map_err(Into::into))
            }

            async fn read(
                &mut self,
                folder: String,
                path: String,
                offset: u64,
                length: u64,
            ) -> wasmtime::Result<Result<Vec<u8>, w::types::Error>> {
                answer(cap::fs::read(&self.call, &folder, &path, offset, length).await)
            }
        }

        impl w::state::Host for PluginState {
            async fn get(
                &mut self,
                key: String,
            ) -> wasmtime::Result<Result<Option<Vec<u8>>, w::types::Error>> {
                answer(cap::state::get(&self.call, &key).await)
            }

            async fn set(
                &mut self,
                key: String,
                value: Vec<u8>,
            ) -> wasmtime::Result<Result<(), w::types::Error>> {
                answer(cap::state::set(&self.call, &key, value).await)
            }

            async fn delete(
                &mut self,
                key: String,
            ) -> wasmtime::Result<Result<(), w::types::Error>> {
                answer(cap::state::delete(&self.call, &key).await)
            }

            async fn keys(
                &mut self,
                prefix: String,
            ) -> wasmtime::Result<Result<Vec<String>, w::types::Error>> {
                answer(cap::state::keys(&self.call, &prefix).await)
            }
        }

        impl w::log::Host for PluginState {
            async fn log(
                &mut self,
                level: w::types::LogLevel,
                message: String,
            ) -> wasmtime::Result<()> {
                use tracing::Level;
                use w::types::LogLevel as L;
                let level = match level {
                    L::Trace => Level::TRACE,
                    L::Debug => Level::DEBUG,
                    L::Info => Level::INFO,
                    L::Warn => Level::WARN,
                    L::Error => Level::ERROR,
                };
                cap::log::log(&self.call, level, &message);
                Ok(())
            }
        }

        impl w::progress::Host for PluginState {
            async fn report(
                &mut self,
                done: u64,
                total: Option<u64>,
                message: String,
            ) -> wasmtime::Result<()> {
                cap::progress::report(&self.call, done, total, &message);
                Ok(())
            }
        }

        impl w::credentials::Host for PluginState {
            async fn get(
                &mut self,
                name: String,
            ) -> wasmtime::Result<Result<Option<String>, w::types::Error>> {
                answer(cap::credentials::get(&self.call, &name))
            }
        }

        impl w::clock::Host for PluginState {
            async fn now(&mut self) -> wasmtime::Result<u64> {
                Ok(cap::clock::now())
            }

            async fn sleep(&mut self, millis: u64) -> wasmtime::Result<()> {
                cap::clock::sleep(&self.call, millis).await;
                Ok(())
            }
        }
    };
}

pub(crate) use host_glue;
