extension ConsoleAssets {
    static let style = #"""
        :root { --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --line: #dfe3ea; --accent: #2b6cb0; --ok: #2f855a; --bad: #c53030; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
        [hidden] { display: none !important; }
        header { display: flex; align-items: center; gap: 20px; padding: 10px 24px; background: #1d2330; color: #fff; }
        header .brand { font-weight: 700; letter-spacing: .04em; }
        header nav { display: flex; gap: 4px; flex: 1; }
        header nav a { color: #cbd2e0; text-decoration: none; padding: 6px 10px; border-radius: 6px; }
        header nav a.active, header nav a:hover { background: #2e3750; color: #fff; }
        main { padding: 20px 24px; max-width: 1200px; }
        h1 { font-size: 20px; margin: 0 0 12px; }
        h2 { font-size: 17px; margin: 24px 0 8px; }
        .cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
        .card .n { font-size: 22px; font-weight: 600; }
        .card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f5; font-weight: 600; font-size: 12px; color: #475467; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
        pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        td.actions { white-space: nowrap; }
        p.error:empty, p.muted:empty { display: none; }
        td code { overflow-wrap: anywhere; }
        tr.fresh { animation: fresh 1.5s ease-out; }
        @keyframes fresh { from { background: #fff7c2; } to { background: #fff; } }
        .empty { color: var(--muted); padding: 12px; }
        .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #e6f4ea; color: var(--ok); }
        .pill.bad { background: #fde8e8; color: var(--bad); }
        .live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #2f855a; }
        .live.off { background: #9b2c2c; }
        button { font: inherit; padding: 6px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: transparent; border-color: #cbd2e0; color: inherit; }
        button.danger { background: #fff; border-color: var(--bad); color: var(--bad); padding: 3px 8px; font-size: 12px; }
        input, textarea { font: inherit; padding: 6px 8px; border: 1px solid #c3cad6; border-radius: 6px; background: #fff; }
        textarea { width: 100%; min-height: 90px; font-family: ui-monospace, monospace; }
        .toolbar { display: flex; gap: 8px; align-items: center; margin: 8px 0 12px; }
        .toolbar input { flex: 1; max-width: 420px; }
        .log { list-style: none; margin: 0; padding: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; max-height: 220px; overflow: auto; }
        .log li { padding: 5px 10px; border-bottom: 1px solid var(--line); font-size: 13px; }
        .log li.join::before { content: "joined "; color: var(--ok); font-weight: 600; }
        .log li.leave::before { content: "left "; color: var(--bad); font-weight: 600; }
        .log time { color: var(--muted); margin-right: 8px; font-variant-numeric: tabular-nums; }
        .grid { display: grid; grid-template-columns: 2fr 1fr; gap: 20px; }
        .error { color: var(--bad); min-height: 1.2em; }
        .muted { color: var(--muted); }
        .signin { display: flex; justify-content: center; padding-top: 12vh; }
        .signin form { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 28px; width: 340px; display: flex; flex-direction: column; gap: 10px; }
        .toast { position: fixed; bottom: 16px; right: 16px; background: #1d2330; color: #fff; padding: 8px 14px; border-radius: 6px; }
        a { color: var(--accent); }
        """#
}
