extension ConsoleAssets {
    /// `jsonCheck.parse(text)`: the publish forms' data as a value, or an Error whose message says in
    /// plain words what is wrong, where, and the usual fix (each browser words `JSON.parse`'s errors
    /// differently, and none names a fix). Loaded before the console's script.
    static let jsonCheck = #"""
        'use strict';
        window.jsonCheck = (function () {
          const quoted = (c) => ({ '"': "'\"'", '\n': 'line break', '\r': 'line break', '\t': 'tab' })[c] || (c < ' ' ? 'control character' : '"' + c + '"');

          // The first problem in `text` as { at, hint }, or null when it is valid JSON.
          function problem(text) {
            const n = text.length;
            let i = 0;
            const fail = (hint) => { throw { at: i, hint }; };
            const ws = () => { while (i < n && ' \t\n\r'.includes(text[i])) i++; };
            const word = () => (/^[A-Za-z_$][\w$]*/.exec(text.slice(i)) || [''])[0];

            function string() {
              i++;
              while (i < n && text[i] !== '"') {
                if (text[i] === '\\') {
                  i++;
                  if (i < n && '"\\/bfnrt'.includes(text[i])) i++;
                  else if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
                  else fail('a backslash in a string starts an escape: \\" \\\\ \\n \\t or \\uXXXX');
                } else if (text[i] < ' ') {
                  fail('line breaks and tabs inside a string are written \\n and \\t');
                } else i++;
              }
              if (i >= n) fail('a string is not closed with "');
              i++;
            }

            function number() {
              const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
              if (!m) fail('not a number: write e.g. 12, -3.5 or 1e6');
              i += m[0].length;
              if (m[1] === '0' && /\d/.test(text[i] || '')) fail('a number does not start with 0');
              if (text[i] === '.' || /[eE]/.test(text[i] || '')) { i++; fail('a number needs digits after "' + text[i - 1] + '"'); }
            }

            function value(afterComma) {
              ws();
              const c = text[i];
              if (i >= n) fail('a value is missing');
              if (c === '{') return object();
              if (c === '[') return array();
              if (c === '"') return string();
              if (c === "'") fail('strings need double quotes');
              if (c === '-' || (c >= '0' && c <= '9')) return number();
              for (const w of ['true', 'false', 'null']) {
                if (text.startsWith(w, i) && !/[\w$]/.test(text[i + w.length] || '')) { i += w.length; return; }
              }
              if (word()) fail('text needs double quotes: "' + word() + '"');
              if ((c === '}' || c === ']') && afterComma) fail('remove the comma before it');
              fail('a value was expected: a "string", a number, true, false, null, {…} or […]');
            }

            function object() {
              i++;
              ws();
              if (text[i] === '}') { i++; return; }
              for (;;) {
                ws();
                if (text[i] === "'") fail('strings need double quotes');
                if (text[i] === '}') fail('remove the comma before it');
                if (i >= n) fail('a closing } is missing');
                if (text[i] !== '"') fail(word() ? 'property names need double quotes: "' + word() + '"' : 'a property name in double quotes was expected');
                string();
                ws();
                if (text[i] !== ':') fail(i >= n ? 'a closing } is missing' : 'a ":" goes between a property name and its value');
                i++;
                value(false);
                ws();
                if (text[i] === ',') { i++; continue; }
                if (text[i] === '}') { i++; return; }
                fail(i >= n ? 'a closing } is missing' : 'a "," or "}" was expected');
              }
            }

            function array() {
              i++;
              ws();
              if (text[i] === ']') { i++; return; }
              for (;;) {
                value(true);
                ws();
                if (text[i] === ',') { i++; continue; }
                if (text[i] === ']') { i++; return; }
                fail(i >= n ? 'a closing ] is missing' : 'a "," or "]" was expected');
              }
            }

            try {
              value(false);
              ws();
              if (i < n) fail('there is more after the value: the data is one JSON value, e.g. one {…}');
              return null;
            } catch (e) {
              if (e && typeof e.at === 'number') return e;
              throw e;
            }
          }

          function describe(text, p) {
            const where = p.at >= text.length ? 'unexpected end of the data' : 'unexpected ' + quoted(text[p.at]) + ' at position ' + (p.at + 1);
            const before = text.slice(0, p.at).split('\n');
            const line = before.length > 1 ? ' (line ' + before.length + ', column ' + (before[before.length - 1].length + 1) + ')' : '';
            return 'Data is not valid JSON: ' + where + line + (p.hint ? ' \u2014 ' + p.hint : '');
          }

          function parse(text) {
            if (!text.trim()) throw new Error('Data is empty: enter a JSON value, e.g. {"text": "hello"}');
            const p = problem(text);
            if (p) throw new Error(describe(text, p));
            try { return JSON.parse(text); } catch (e) { throw new Error('Data is not valid JSON (' + e.message + ')'); }
          }

          return { parse, problem };
        })();
        """#
}
