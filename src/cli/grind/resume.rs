//! `grind --resume` on the command line: grind says which settings of the start the command
//! line overrode (how the request is completed is [`crate::grind::resume::prepare`]'s), and
//! the command that takes a stopped run up again. The real run and the dry run share this.

use crate::cli::Ctx;
use crate::grind::resume::Resumed;
use crate::grind::summary::{GrindSummary, StopCause};
use crate::plan::budget::StopReason;
use crate::store::Run;

/// Says which settings of the start the command line overrode.
pub(crate) fn say_overridden(ctx: &Ctx, run: &Run, r: &Resumed) {
    if r.overridden.is_empty() {
        return;
    }
    let list: Vec<String> = r
        .overridden
        .iter()
        .map(|o| format!("{} (started with {})", o.flag, o.was))
        .collect();
    ctx.ui.status(&format!(
        "resuming run {} with what the command line overrides: {}",
        run.id,
        list.join(", ")
    ));
}

/// The command that takes a stopped run up again, as grind prints it at the end: the run goes
/// on as it started, so `--resume <run>` is enough, plus a larger budget when a budget stopped
/// it (the same one would refuse to start).
pub(crate) fn resume_command(s: &GrindSummary) -> String {
    let more = match &s.stop {
        StopCause::Budget {
            reason: StopReason::Cost { limit, .. },
        } => format!(" --max-cost {:.2}", limit * 2.0),
        StopCause::Budget {
            reason: StopReason::Tokens { limit, .. },
        } => format!(" --max-tokens {}", limit.saturating_mul(2)),
        StopCause::Budget {
            reason: StopReason::Time { .. },
        } => " --until <a later time>".to_string(),
        _ => String::new(),
    };
    format!("git pitboss grind --resume {}{more}", s.run)
}
