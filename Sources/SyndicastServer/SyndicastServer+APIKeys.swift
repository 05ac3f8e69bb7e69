/// `--api-key-file` while serving: reload on SIGHUP and the report of each reload.
extension SyndicastServer {
    /// Reads `--api-key-file` again: its keys are served from now on, or, if it is unusable, the
    /// keys read before stay (the outcome says which, with the file and line, never a key). Nil
    /// without a key file. SIGHUP calls it; each outcome also goes to ``reportAPIKeyReloads(_:)``.
    @discardableResult
    public func reloadAPIKeys() -> APIKeyReload? {
        context.routing.policy.keys.reload()
    }

    /// Calls `report` with the outcome of every later ``reloadAPIKeys()`` (on SIGHUP: on the
    /// thread waiting for signals), so the command line can log it.
    public func reportAPIKeyReloads(_ report: @escaping @Sendable (APIKeyReload) -> Void) {
        context.routing.policy.keys.observeReloads(report)
    }
}
