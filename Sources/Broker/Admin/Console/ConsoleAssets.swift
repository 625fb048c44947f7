/// The console's page, script and style, compiled into the binary: no build step, no CDN, nothing to
/// deploy beside the broker. The page loads only these files (the CSP forbids anything else).
enum ConsoleAssets {
    static let indexHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Broker console</title>
        <link rel="icon" href="admin/static/icon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="admin/static/console.css">
        </head>
        <body>
        <section id="signin" class="signin" hidden>
          <form id="signin-form" autocomplete="off">
            <h1>Broker console</h1>
            <label for="password">Admin password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
            <button id="sign-in" type="submit">Sign in</button>
            <p id="signin-error" class="error" role="alert"></p>
          </form>
        </section>
        <div id="app" hidden>
          <header>
            <span class="brand">Broker</span>
            <nav>
              <a href="#/" data-nav="overview">Overview</a>
              <a href="#/channels" data-nav="channels">Channels</a>
              <a href="#/connections" data-nav="connections">Connections</a>
              <a href="#/publish" data-nav="publish">Publish</a>
            </nav>
            <span id="live" class="live off" title="live updates">offline</span>
            <button id="sign-out" type="button" class="secondary">Sign out</button>
          </header>
          <main id="view"></main>
          <p id="toast" class="toast" role="status" hidden></p>
        </div>
        <script src="admin/static/json-check.js"></script>
        <script src="admin/static/console.js"></script>
        </body>
        </html>
        """#
}
