extension ConsoleAssets {
    /// The console's icon (`<link rel="icon">`), so the browser does not ask for a missing `/favicon.ico`.
    static let icon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
        <rect width="32" height="32" rx="7" fill="#1d2330"/>
        <circle cx="16" cy="16" r="4" fill="#4fd1c5"/>
        <path d="M9 9a10 10 0 0 0 0 14M23 9a10 10 0 0 1 0 14" stroke="#4fd1c5" stroke-width="2.5" fill="none" stroke-linecap="round"/>
        </svg>
        """#
}
