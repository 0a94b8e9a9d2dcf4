//! [`crate::store::kept`] for a grind: work that does not land saved with the run's redactor,
//! identity and clock.

use crate::git::{GitError, Oid, Repo};
use crate::store::kept::{KeepAs, keep_work};
pub(crate) use crate::store::kept::{holds_secret, kept_ref_in};

/// [`keep_work`] for a grind: the run's redactor, identity and clock; `name` as in [`KeepAs`].
pub(super) fn save(
    ctx: &super::context::Ctx,
    wt: &Repo,
    since: Oid,
    name: String,
) -> Result<Option<Vec<u8>>, GitError> {
    let how = KeepAs {
        run: &ctx.run,
        name,
        who: ctx.repo.identity(),
        when: ctx.clock.now(),
    };
    Ok(keep_work(wt, since, &ctx.redactor, &how)?.map(|k| k.patch))
}
