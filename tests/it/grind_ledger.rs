//! The cost ledger of a real grind: an agent that reports tokens but no dollars is priced from
//! the built-in table (or the config's `[budgets.pricing]`), with the table recorded; a model in
//! neither is `unknown`, never $0 silently, and warned about once per run.

use crate::support::*;
use serde_json::Value;

/// A `command` agent that reports `tokens` and `model` in its result file.
fn project(sb: &Sandbox, model: &str, extra_config: &str) {
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("work.md"),
        "---\nname: work\ndescription: works\n---\nWork.\n",
    )
    .unwrap();
    let agent = format!(
        "printf '{{\"summary\":\"worked\",\"model\":\"{model}\",\"tokens\":{{\"input\":1000000,\
         \"output\":100000,\"cache_read\":2000000,\"reasoning\":50000}}}}' > \"$PITBOSS_RESULT_FILE\"\n"
    );
    std::fs::write(sb.path("agent.sh"), agent).unwrap();
    let cfg = format!(
        "[agent]\nbackend = \"command\"\ncommand = \"sh {}\"\n{extra_config}",
        sb.path("agent.sh").display()
    );
    std::fs::write(sb.repo.join(".pitboss/config.toml"), cfg).unwrap();
}

fn grind(sb: &Sandbox, sessions: &str) -> Vec<Value> {
    let out = run_with_stdin(
        sb.pitboss()
            .args(["grind", "--max-iterations", sessions, "--json"]),
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

fn records(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["event"] == "session_finished")
        .map(|e| e["record"].clone())
        .collect()
}

#[test]
fn a_known_model_is_estimated_from_the_builtin_table() {
    let sb = Sandbox::new();
    project(&sb, "gpt-5-2025-08-07", "");
    let r = &records(&grind(&sb, "1"))[0];
    assert_eq!(r["cost_source"], "estimated", "{r}");
    assert_eq!(r["price_table"], "builtin-2026-11-27");
    assert_eq!(r["model"], "gpt-5-2025-08-07");
    // 1M input at $1.25, 0.1M output at $10, 2M cache reads at $0.125; reasoning is part of
    // the output and is not priced again.
    let cost = r["cost_usd"].as_f64().unwrap();
    assert!((cost - (1.25 + 1.0 + 0.25)).abs() < 1e-9, "{cost}");
    assert_eq!(r["tokens"]["reasoning"], 50000);
}

#[test]
fn the_config_overrides_the_builtin_price() {
    let sb = Sandbox::new();
    project(
        &sb,
        "gpt-5",
        "[budgets.pricing.\"gpt-5\"]\ninput = 2\noutput = 20\n",
    );
    let r = &records(&grind(&sb, "1"))[0];
    assert_eq!(
        (&r["cost_source"], &r["price_table"]),
        (&Value::from("estimated"), &Value::from("config"))
    );
    let cost = r["cost_usd"].as_f64().unwrap();
    assert!((cost - (2.0 + 2.0)).abs() < 1e-9, "{cost}");
}

#[test]
fn an_unknown_model_is_unknown_and_warned_about_once_per_run() {
    let sb = Sandbox::new();
    project(&sb, "llama-local", "");
    let events = grind(&sb, "2");
    let recs = records(&events);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r["cost_source"], "unknown", "{r}");
        assert_eq!(r["cost_usd"], 0.0);
        assert!(r.get("price_table").is_none(), "{r}");
    }
    let warnings: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "warning")
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("cost unknown"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("llama-local") && warnings[0].contains("[budgets.pricing"),
        "{}",
        warnings[0]
    );
}

/// A session stopped by its timeout keeps the tokens and dollars its agent reported before it
/// stopped (here a stand-in for Aider that prints its usage line, then hangs).
#[test]
fn a_timed_out_session_keeps_what_the_agent_reported() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("work.md"),
        "---\nname: work\ndescription: works\nmax_session_seconds: 1\n---\nWork.\n",
    )
    .unwrap();
    let fake = sb.path("aider");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'aider 0.86.2'; exit 0; }\n\
         echo 'Aider v0.86.2'\necho 'Main model: openai/gpt-4.1 with whole edit format'\n\
         echo 'Tokens: 1.5k sent, 200 cache hit, 60 received. Cost: $0.0031 message, $0.0031 session.'\n\
         exec sleep 30\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        sb.repo.join(".pitboss/config.toml"),
        format!(
            "[agent]\nbackend = \"aider\"\nbinary = \"{}\"\n",
            fake.display()
        ),
    )
    .unwrap();
    let out = run_with_stdin(
        sb.pitboss()
            .args(["grind", "--max-iterations", "1", "--json"]),
        "",
    );
    let recs = records(
        &stdout(&out)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect::<Vec<_>>(),
    );
    let r = &recs[0];
    assert_eq!(r["status"], "timeout", "{r}");
    assert_eq!(r["tokens"]["input"], 1300, "{r}");
    assert_eq!(r["tokens"]["cache_read"], 200);
    assert_eq!(r["tokens"]["output"], 60);
    assert_eq!(r["cost_usd"], 0.0031);
    assert_eq!(r["cost_source"], "reported");
    assert_eq!(r["model"], "openai/gpt-4.1");
}

/// An agent whose first session names a priced model and whose second names one no table
/// knows; both report the same tokens, caches included.
fn mixed_project(sb: &Sandbox) {
    let prompts = sb.repo.join(".pitboss/grind/prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("work.md"),
        "---\nname: work\ndescription: works\n---\nWork.\n",
    )
    .unwrap();
    let agent = "if [ \"$PITBOSS_SEQ\" = 1 ]; then m=gpt-5; else m=llama-local; fi\n\
         printf '{\"summary\":\"worked\",\"model\":\"%s\",\"tokens\":{\"input\":1000,\
         \"output\":100,\"cache_read\":2000,\"cache_write\":300}}' \"$m\" > \"$PITBOSS_RESULT_FILE\"\n";
    std::fs::write(sb.path("agent.sh"), agent).unwrap();
    let cfg = format!(
        "[agent]\nbackend = \"command\"\ncommand = \"sh {}\"\n",
        sb.path("agent.sh").display()
    );
    std::fs::write(sb.repo.join(".pitboss/config.toml"), cfg).unwrap();
}

/// One definition of a session's token total (input + output + cache reads + cache writes)
/// on every line that shows one, and in the token budget; unknown costs read `unknown`.
#[test]
fn every_view_counts_tokens_one_way_and_says_unknown_cost() {
    let sb = Sandbox::new();
    mixed_project(&sb);
    let out = run_with_stdin(
        sb.git_pitboss()
            .args(["grind", "--max-iterations", "3", "--max-tokens", "5000"]),
        "",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(" tok ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    for l in &lines {
        assert!(l.contains(" 3400 tok"), "per-session line: {l}");
    }
    assert!(
        lines[1].contains(" unknown ") && !lines[1].contains("$0.0000 "),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("(run ≥ $"), "{}", lines[1]);
    assert!(
        err.contains("token budget reached (6800 of 5000 tokens)"),
        "{err}"
    );
    assert!(
        err.contains("  tokens    6800 (2000 in / 200 out / 4000 cache read / 600 cache write)"),
        "{err}"
    );
    assert!(
        err.contains(", 1 session of unknown cost"),
        "closing table: {err}"
    );
    let run = sb.only_run();
    let log = stdout(&run_with_stdin(sb.git_pitboss().args(["log", &run]), ""));
    assert_eq!(log.matches(" 3400 tok").count(), 2, "{log}");
    assert!(log.contains("unknown") && !log.contains("$0.0000"), "{log}");
    let md = stdout(&run_with_stdin(
        sb.git_pitboss().args(["log", &run, "--md"]),
        "",
    ));
    assert_eq!(
        md.matches("- tokens: 3400 (in 1000 / out 100 / cache read 2000 / cache write 300)\n")
            .count(),
        2,
        "{md}"
    );
    assert!(md.contains("- cost: unknown\n"), "{md}");
    let body = sb.git(&[
        "log",
        "-1",
        "--format=%B",
        &format!("refs/pitboss/grind/{run}~1"),
    ]);
    for t in [
        "Pitboss-Tokens: 1000 in / 100 out\n",
        "Pitboss-Cache-Tokens: 2000 read / 300 write\n",
        "Pitboss-Cost-USD: unknown\n",
    ] {
        assert!(body.contains(t), "missing {t:?} in\n{body}");
    }
    let show = stdout(&run_with_stdin(sb.git_pitboss().args(["show", &run]), ""));
    assert!(
        show.contains("tokens    6800 (2000 in / 200 out / 4000 cache read / 600 cache write)"),
        "{show}"
    );
    assert!(show.contains(", 1 session of unknown cost"), "{show}");
    let one = stdout(&run_with_stdin(
        sb.git_pitboss().args(["show", &run, "2"]),
        "",
    ));
    assert!(one.contains("cost      unknown"), "{one}");
    let ls = stdout(&run_with_stdin(sb.git_pitboss().args(["ls"]), ""));
    assert!(ls.contains("≥ $"), "{ls}");
}

/// With `--max-cost`, the first session of unknown cost says the budget cannot see it.
#[test]
fn max_cost_warns_once_about_a_session_it_cannot_see() {
    let sb = Sandbox::new();
    project(&sb, "llama-local", "");
    let out = run_with_stdin(
        sb.git_pitboss()
            .args(["grind", "--max-iterations", "2", "--max-cost", "5"]),
        "",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err.matches("the cost budget (--max-cost $5.00) cannot see it")
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("iteration budget reached (2 sessions)"),
        "{err}"
    );
}

/// `[budgets] price_file` reads a price list in litellm's format (here an excerpt of the one
/// Aider installs); it extends the built-in table and is recorded as the table.
#[test]
fn a_litellm_price_file_prices_models_the_table_lacks() {
    let sb = Sandbox::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prices/litellm-excerpt.json");
    std::fs::copy(&fixture, sb.repo.join("prices.json")).unwrap();
    project(
        &sb,
        "gpt-5.2-codex",
        "[budgets]\nprice_file = \"prices.json\"\n",
    );
    let r = &records(&grind(&sb, "1"))[0];
    assert_eq!(
        (&r["cost_source"], &r["price_table"]),
        (
            &Value::from("estimated"),
            &Value::from("price_file:prices.json")
        ),
        "{r}"
    );
    // 1M input at $1.75, 0.1M output at $14, 2M cache reads at $0.175.
    let cost = r["cost_usd"].as_f64().unwrap();
    assert!((cost - (1.75 + 1.4 + 0.35)).abs() < 1e-9, "{cost}");
}

/// A price file that is missing or not a price list stops the run before anything is written,
/// saying which file and what is wrong.
#[test]
fn an_unusable_price_file_stops_the_run_with_the_reason() {
    let sb = Sandbox::new();
    project(&sb, "gpt-5", "[budgets]\nprice_file = \"prices.json\"\n");
    for (contents, says) in [
        (None, "cannot read it"),
        (Some("[1, 2]"), "not a JSON object"),
    ] {
        if let Some(c) = contents {
            std::fs::write(sb.repo.join("prices.json"), c).unwrap();
        }
        let out = run_with_stdin(sb.pitboss().args(["grind", "--max-iterations", "1"]), "");
        assert_ne!(out.status.code(), Some(0));
        let err = stderr(&out);
        assert!(
            err.contains("budgets.price_file") && err.contains("prices.json") && err.contains(says),
            "{err}"
        );
        assert_eq!(sb.pitboss_refs(), "", "nothing was written");
    }
}
