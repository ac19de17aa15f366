//! Helpers for method plugins: their options (`sqlmig migrate plan --option KEY=VALUE`, which
//! arrive as JSON numbers and booleans, or text) and the step documents of `run-step` — which
//! platform plugins that offer a backup route answer too.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::protocol::migration::{
    BACKUP_OFFER, BACKUP_OFFER_REQUEST, BackupOffer, BackupOfferRequest, PLAN_REQUEST, Plan,
    PlanRequest, STEP_REQUEST, STEP_RESULT, Step, StepKind, StepRequest, StepResult, Watch,
};
use crate::{Error, invalid_input, parse_document};

/// Options a plan request carries.
pub type Options = Map<String, Value>;

/// Refuses an option `plugin` does not take, naming the ones it does.
pub fn check_known(options: &Options, known: &[&str], plugin: &str) -> Result<(), Error> {
    match options.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(invalid_input(format!(
            "unknown option {k}: {plugin} takes {}",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A positive number option (`blob_max_mb=102400`), or `default`.
pub fn number(options: &Options, key: &str, default: f64) -> Result<f64, Error> {
    match options.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| *n > 0.0)
            .ok_or_else(|| invalid_input(format!("option {key}: {v} is not a positive number"))),
    }
}

/// A true/false option, or `default`.
pub fn flag(options: &Options, key: &str, default: bool) -> Result<bool, Error> {
    match options.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(v) => Err(invalid_input(format!(
            "option {key}: {v} is not true or false"
        ))),
    }
}

/// A text option.
pub fn text<'a>(options: &'a Options, key: &str) -> Option<&'a str> {
    options.get(key).and_then(Value::as_str)
}

/// Answers a platform plugin's `plan` hook, the host's backup-offer request: reads it, checks
/// its options against `known`, and writes the offer `offer` makes of it.
pub fn answer_offer(
    request: &str,
    known: &[&str],
    plugin: &str,
    offer: impl FnOnce(&BackupOfferRequest) -> Result<BackupOffer, Error>,
) -> Result<String, Error> {
    let req: BackupOfferRequest = parse_document(request, "backup offer request")?;
    if req.schema != BACKUP_OFFER_REQUEST {
        return Err(invalid_input(format!(
            "backup offer request schema {:?}; this plugin reads {BACKUP_OFFER_REQUEST:?}",
            req.schema
        )));
    }
    check_known(&req.options, known, plugin)?;
    let mut answer = offer(&req)?;
    answer.schema = BACKUP_OFFER.into();
    Ok(serde_json::to_string(&answer).expect("an offer serializes"))
}

/// Answers a `plan` hook: reads the request, plans it with `plan`, writes the plan document.
pub fn answer_plan(
    request: &str,
    plan: impl FnOnce(&PlanRequest) -> Result<Plan, Error>,
) -> Result<String, Error> {
    let req: PlanRequest = parse_document(request, "plan request")?;
    if req.schema != PLAN_REQUEST {
        return Err(invalid_input(format!(
            "plan request schema {:?}; this plugin reads {PLAN_REQUEST:?}",
            req.schema
        )));
    }
    Ok(serde_json::to_string(&plan(&req)?).expect("a plan serializes"))
}

/// Marks the steps of `kind` as watched by the host, which shows the server's
/// `percent_complete` of `command` (`BACKUP%`, `RESTORE%`) on `endpoint` for the database named
/// by the step's argument `database_arg` while the step runs.
pub fn watch_steps(
    steps: &mut [Step],
    kind: StepKind,
    endpoint: &str,
    command: &str,
    database_arg: &str,
) {
    for step in steps.iter_mut().filter(|s| s.kind == kind) {
        step.watch = step.args[database_arg].as_str().map(|d| Watch {
            endpoint: endpoint.into(),
            command: command.into(),
            database: d.into(),
        });
    }
}

/// Reads a `run-step` request.
pub fn step_request(request: &str) -> Result<StepRequest, Error> {
    let req: StepRequest = parse_document(request, "step request")?;
    if req.schema != STEP_REQUEST {
        return Err(invalid_input(format!(
            "step request schema {:?}; this plugin reads {STEP_REQUEST:?}",
            req.schema
        )));
    }
    Ok(req)
}

/// The step's arguments, as the plugin's plan wrote them.
pub fn step_args<T: DeserializeOwned>(req: &StepRequest) -> Result<T, Error> {
    serde_json::from_value(req.step.args.clone())
        .map_err(|e| invalid_input(format!("step {}: arguments: {e}", req.step.id)))
}

/// The `run-step` answer: a line for people and what later steps or reports need.
pub fn step_result(message: String, output: Value) -> String {
    serde_json::to_string(&StepResult {
        schema: STEP_RESULT.into(),
        message,
        output,
        again: false,
    })
    .expect("a step result serializes")
}

/// The `run-step` answer of a step that handed back unfinished: the host journals the message
/// and calls the step again (a long loop that must not outlive its hook's deadline).
pub fn step_again(message: String, output: Value) -> String {
    serde_json::to_string(&StepResult {
        schema: STEP_RESULT.into(),
        message,
        output,
        again: true,
    })
    .expect("a step result serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_read_or_refused_by_name() {
        let o: Options =
            serde_json::from_value(json!({ "a": 2, "b": "3.5", "c": "true", "d": "x" })).unwrap();
        assert_eq!(number(&o, "a", 1.0).unwrap(), 2.0);
        assert_eq!(number(&o, "b", 1.0).unwrap(), 3.5);
        assert_eq!(number(&o, "z", 9.0).unwrap(), 9.0);
        assert!(flag(&o, "c", false).unwrap());
        assert!(format!("{:?}", flag(&o, "d", false).unwrap_err()).contains("option d"));
        assert!(
            format!("{:?}", check_known(&o, &["a", "b", "c"], "m").unwrap_err())
                .contains("unknown option d: m takes a, b, c")
        );
    }
}
