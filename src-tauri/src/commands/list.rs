// The app's IPC commands, one list (also included by build.rs, hence no inner doc comment).

/// Every `#[tauri::command]` of the app: the one list of IPC commands. `build.rs` declares them
/// to Tauri (so the capability file can grant them one by one; a command missing here cannot be
/// called from the UI), and the tests below check that the handler list in `lib.rs`, the
/// permissions in `capabilities/main.json` and the calls of `ui/src/lib/backend.ts` name exactly
/// these. A new command: add it here, then wherever the test says it is missing.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "settings_get",
    "connection_status",
    "switch_mode",
    "hubspot_install_start",
    "hubspot_install_wait",
    "hubspot_install_cancel",
    "hubspot_install_paste",
    "hubspot_connect_private_token",
    "hubspot_disconnect",
    "didomi_connect",
    "didomi_disconnect",
    "options_set_upsert",
    "options_enable_bidirectional",
    "options_disable_bidirectional",
    "mapping_load",
    "mapping_save",
    "mapping_create_property",
    "mapping_suggest",
    "config_export",
    "config_import_preview",
    "config_import_apply",
    "push_check",
    "push_run",
    "run_cancel",
    "history_list",
    "history_records",
    "history_export_records_csv",
    "workflow_guide",
    "workflow_check",
    "workflow_simulate",
    "pull_settings_save",
    "pull_run",
    "push_then_pull",
    "auto_sync_watch",
    "auto_sync_set",
    "inspect_lookup",
    "inspect_sync",
    "inspect_export",
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::COMMANDS;

    fn listed() -> BTreeSet<String> {
        let set: BTreeSet<String> = COMMANDS.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(set.len(), COMMANDS.len(), "no command is listed twice");
        set
    }

    /// The names between `open` and the next `close` in `text`, each the last `::` segment of a
    /// comma-separated item.
    fn handler_names(text: &str) -> BTreeSet<String> {
        let start = text.find("generate_handler![").expect("lib.rs has a handler list") + 18;
        let end = start + text[start..].find(']').expect("the list ends");
        text[start..end]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.rsplit("::").next().unwrap_or(s).to_owned())
            .collect()
    }

    /// The command names of `call('name'` / `call<…>('name'` in the TypeScript facade.
    fn facade_names(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (i, _) in text.match_indices("call") {
            let rest = &text[i + 4..];
            let rest = rest.strip_prefix('<').map_or(rest, |r| &r[r.find('>').unwrap_or(0) + 1..]);
            if let Some(r) = rest.strip_prefix("('") {
                if let Some(end) = r.find('\'') {
                    out.insert(r[..end].to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn the_handler_list_registers_every_command_and_nothing_else() {
        assert_eq!(handler_names(include_str!("../lib.rs")), listed(), "lib.rs generate_handler!");
    }

    #[test]
    fn the_capability_grants_every_command_and_nothing_else() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../capabilities/main.json")).expect("JSON");
        let granted: BTreeSet<String> = conf["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .map(|p| p.strip_prefix("allow-").unwrap_or(p).replace('-', "_"))
            .collect();
        assert_eq!(granted, listed(), "capabilities/main.json permissions");
    }

    #[test]
    fn the_typescript_facade_calls_every_command_and_nothing_else() {
        let facade = facade_names(include_str!("../../../ui/src/lib/backend.ts"));
        assert_eq!(facade, listed(), "ui/src/lib/backend.ts");
    }
}
