/// Keeps the engine's set of channels this node listens to equal to the hub's channels.
///
/// Hub changes arrive from several event loops and their notifications can overtake each other, so
/// each `sync` ignores what changed and applies what is true now; the actor runs them one at a time.
/// (A subscribe also registers interest directly before reading history, so nothing published after
/// its reply can be missed.)
actor EngineInterest {
    private let engine: any PubSubEngine
    nonisolated(unsafe) weak var hub: Hub?

    init(engine: any PubSubEngine) {
        self.engine = engine
    }

    func sync(_ channel: String) async {
        guard let hub else { return }
        if hub.hasSubscribers(channel) {
            try? await engine.subscribe(channel: channel)
        } else {
            try? await engine.unsubscribe(channel: channel)
        }
    }
}
