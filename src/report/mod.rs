//! `git pitboss report --html`: one self-contained HTML page about one or more runs.
//!
//! A night of sessions needs something to look at and to attach to an issue. The page holds
//! everything it shows: inline CSS, charts as inline SVG drawn with plotters (its SVG backend
//! with no font feature, so no system font is ever loaded: text is left to the browser), no
//! script, no font, no link that leaves the file. It is filled by a minijinja template with
//! HTML auto-escaping on, so every string from a run (prompt names, summaries, transcripts,
//! which agents and remotes wrote) is escaped; only the SVG that plotters made (which escapes
//! its own text) is inserted as it is.
//!
//! Pure but for [`load`]: that reads the runs, their records, the transcripts the page will
//! show and the per-prompt yield figures, and gets the page back as a string from the rest.

mod charts;
pub(crate) mod load;
mod model;

use std::collections::BTreeMap;

use minijinja::{Environment, context};

use crate::provenance::Group;
use crate::store::{RunMeta, RunState, SessionRecord};

/// The page template (HTML, auto-escaped).
const TEMPLATE: &str = include_str!("templates/report.html");
/// The page's styles, inlined into it.
const STYLE: &str = include_str!("templates/report.css");

/// How much of the transcripts the page carries: a 10,000-session run must stay a page a
/// browser opens in a moment, so only the newest sessions carry theirs.
#[derive(Debug, Clone)]
pub(crate) struct ReportOptions {
    /// How many of each run's newest sessions carry their readable transcript.
    pub transcripts: usize,
    /// The most characters of one session's readable transcript.
    pub transcript_chars: usize,
    /// When the page was made (shown at the top).
    pub generated_at: chrono::DateTime<chrono::Utc>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            transcripts: 200,
            transcript_chars: 20_000,
            generated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }
}

/// One run as [`load`] read it.
#[derive(Debug)]
pub(crate) struct RunInput<'a> {
    pub meta: &'a RunMeta,
    pub state: &'a RunState,
    /// The run's records, in seq order.
    pub records: &'a [SessionRecord],
    /// Raw transcripts of the sessions [`wanted_transcripts`] named, by seq.
    pub transcripts: &'a BTreeMap<u64, Vec<u8>>,
    /// Per-prompt yield figures (`git pitboss stats` by prompt, this run only).
    pub yields: &'a [Group],
    /// The target branch the yield figures judged reaching against, when known.
    pub target: Option<&'a str>,
}

/// Errors making the page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportError {
    #[error("cannot draw the {chart} chart: {message}")]
    Chart {
        chart: &'static str,
        message: String,
    },
    #[error("cannot fill the report template")]
    Template(#[from] minijinja::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Provenance(#[from] crate::provenance::ProvenanceError),
}

/// The seqs whose transcripts the page will show: each run's newest `opts.transcripts`.
pub(crate) fn wanted_transcripts(records: &[SessionRecord], opts: &ReportOptions) -> Vec<u64> {
    let mut seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    seqs.sort_unstable();
    let skip = seqs.len().saturating_sub(opts.transcripts);
    seqs.split_off(skip)
}

/// The whole page.
pub(crate) fn render(runs: &[RunInput<'_>], opts: &ReportOptions) -> Result<String, ReportError> {
    let views = runs
        .iter()
        .map(|r| model::run_view(r, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let mut env = Environment::new();
    env.set_formatter(html_formatter);
    env.add_template("report.html", TEMPLATE)?;
    let tmpl = env.get_template("report.html")?;
    let title = match views.as_slice() {
        [one] => format!("pitboss run {}", one.id),
        many => format!("pitboss: {} runs", many.len()),
    };
    Ok(tmpl.render(context! {
        title => title,
        style => STYLE,
        runs => minijinja::Value::from(minijinja::value::Serde(&views)),
        compare => runs.len() > 1,
        // Several runs: each chart's runs side by side, one row per chart.
        chart_titles => views
            .iter()
            .find(|v| !v.charts.is_empty())
            .map(|v| v.charts.iter().map(|c| c.title).collect::<Vec<_>>())
            .unwrap_or_default(),
        generated_at => crate::store::rfc3339::format(&opts.generated_at),
        version => env!("CARGO_PKG_VERSION"),
    })?)
}

/// minijinja's HTML escaping plus visible control characters, less its escape of `/`: that one guards only against closing a
/// `<script>` from inside a string, and the page has no script, while transcripts are full of
/// paths (every `/` would cost five more bytes in a 10,000-session page).
fn html_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if !matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        || value.is_safe()
        || value.is_none()
    {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = match value.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(value.to_string()),
    };
    // HTML escaping leaves control characters alone, and `report --html -` may go to a
    // terminal: show them as visible escapes (CRLF line ends are just line ends here).
    let text = if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        text
    };
    let text = crate::escape::terminal_safe(&text);
    let mut rest: &str = &text;
    while let Some(i) = rest.find(['<', '>', '&', '"', '\'']) {
        out.write_str(&rest[..i])?;
        out.write_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            _ => "&#39;",
        })?;
        rest = &rest[i + 1..];
    }
    out.write_str(rest)?;
    Ok(())
}

#[cfg(test)]
mod tests;
