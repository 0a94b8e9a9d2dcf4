//! The commands that read runs and change nothing: `ls`, `log`, `show`, `why`, `blame`,
//! `stats`, `review` and `report --html`, with the pieces two of them share (the
//! transcript presenter, the `interrupted` status).

pub(super) mod blame;
pub(super) mod html_report;
pub(super) mod log;
pub(super) mod ls;
pub(super) mod pretty;
pub(super) mod review;
pub(super) mod show;
pub(super) mod show_pretty;
pub(super) mod stats;
pub(super) mod why;
