package actionsdebug

// pageHTML is the page's html/template: every name and message is escaped
// for where it lands.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{if .Action}}{{.Action}} - {{end}}/debug/actions</title>
<style>
body { font-family: sans-serif; font-size: 14px; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
ol { margin: 0; padding-left: 1.5em; }
.orphan { background: #fdd; }
.flag { color: #fff; background: #c00; padding: 0 4px; font-weight: bold; }
.failed, .cancelled { color: #c00; }
.aborted, .rejected { color: #a60; }
.num { text-align: right; }
.source { color: #666; font-family: monospace; font-size: 12px; }
ol.sources { text-align: left; }
.plugin { color: #1a4d8f; background: #e3ecfa; border-radius: 3px; padding: 0 4px; font-size: 12px; white-space: nowrap; }
.plugins { color: #666; font-size: 12px; margin-top: 2px; white-space: nowrap; }
</style>
</head>
<body>
<h1>/debug/actions{{if .Action}}: {{.Action}}{{end}}</h1>
<p>{{if .Action}}<a href="?">all actions</a> · {{end}}<a href="?{{if .Action}}action={{.Action}}&amp;{{end}}format=json">JSON</a></p>
{{with .Recorder}}<p class="recorder">Recorder: {{.Actions}} of at most {{.MaxActions}} actions ({{.Evicted}} forgotten), the last {{.HistorySize}} invocations of each, the slowest over {{dur .SlowWindow}}{{if .Payloads}}, with payloads{{end}}.</p>{{end}}
{{if not .Actions}}<p class="empty">{{if .Action}}Nothing is registered, listened to or recorded under this name.{{else}}No actions.{{end}}</p>{{else}}
<table id="actions">
<tr><th>action</th><th>state</th><th>before (run order)</th><th>after (run order)</th><th>replaced</th><th>blocked</th><th>de-duplication</th><th>concurrent</th><th>in flight</th>{{if $.Recorder}}<th>ok</th><th>aborted</th><th>failed</th><th>rejected</th><th>cancelled</th><th>last</th>{{end}}</tr>
{{range .Actions}}<tr class="action{{if .Orphan}} orphan{{end}}" data-action="{{.Name}}">
<td><a href="?action={{.Name}}">{{.Name}}</a>{{with .Plugins}}<div class="plugins">plugins:{{range .}} <span class="plugin">{{.}}</span>{{end}}</div>{{end}}</td>
<td>{{if .Registered}}registered{{with .Plugin}} by plugin <span class="plugin">{{.}}</span>{{end}}{{with .Source}} at <span class="source">{{.}}</span>{{end}}{{else if .Orphan}}<span class="flag">ORPHAN</span> not registered: its listeners, replacements and blocks never run{{with .Suggestion}}; did you mean <a href="?action={{.}}">{{.}}</a>?{{end}}{{else}}not registered{{end}}</td>
<td>{{template "listeners" .Before}}</td>
<td>{{template "listeners" .After}}</td>
<td class="num replacements">{{.Replacements}}{{template "sources" .ReplacementSources}}</td>
<td class="num blocks">{{.Blocks}}{{template "sources" .BlockSources}}</td>
<td>{{.Dedup}}</td>
<td>{{if .Concurrent}}yes{{else}}no{{end}}</td>
<td class="num inflight">{{.InFlight}}</td>
{{if $.Recorder}}{{with .Counts}}<td class="num">{{.OK}}</td><td class="num">{{.Aborted}}</td><td class="num">{{.Failed}}</td><td class="num">{{.Rejected}}</td><td class="num">{{.Cancelled}}</td>{{else}}<td></td><td></td><td></td><td></td><td></td>{{end}}
<td>{{with .Last}}{{template "brief" .}}{{end}}</td>{{end}}
</tr>
{{end}}</table>
{{if .Action}}{{range .Actions}}
<h2>Recent invocations (newest first)</h2>
{{template "records" .Recent}}
<h2>Slowest{{with $.Recorder}} over {{dur .SlowWindow}}{{end}}</h2>
{{template "records" .Slowest}}
{{with .Latency}}<h2>Latency</h2>
<table class="latency"><tr>{{range .}}<th>&ge; {{dur .Min}}</th>{{end}}</tr><tr>{{range .}}<td class="num">{{.Count}}</td>{{end}}</tr></table>{{end}}
{{end}}{{end}}{{end}}
</body>
</html>
{{define "listeners"}}{{if .}}<ol>{{range .}}<li>{{if .Name}}{{.Name}}{{else}}<i>unnamed</i>{{end}}{{if .Priority}} (priority {{.Priority}}){{end}}{{if .Once}} once{{end}}{{with .Plugin}} <span class="plugin" title="plugin">{{.}}</span>{{end}}{{with .Source}} <span class="source">{{.}}</span>{{end}}</li>{{end}}</ol>{{end}}{{end}}
{{define "sources"}}{{if .}}<ol class="sources">{{range .}}<li class="source">{{.}}</li>{{end}}</ol>{{end}}{{end}}
{{define "brief"}}<span class="{{.Status}}">{{.Status}}</span> in {{dur .Duration}}{{with .Reason}}: reason: {{.}}{{else}}{{with .Error}}: {{.}}{{end}}{{end}}{{end}}
{{define "records"}}{{if .}}<table class="records">
<tr><th>id</th><th>parent</th><th>depth</th><th>start</th><th>duration</th><th>status</th><th>stage</th><th>listener</th><th>error</th><th>reason</th><th>after-listeners</th><th>payload</th></tr>
{{range .}}<tr class="record">
<td class="num">{{.ID}}</td><td class="num">{{with .ParentID}}{{.}}{{end}}</td><td class="num">{{.Depth}}</td><td>{{time .Start}}</td><td class="num">{{dur .Duration}}</td><td class="{{.Status}}">{{.Status}}{{if .Shared}} (shared){{end}}</td><td>{{.Stage}}</td><td>{{.Listener}}</td><td>{{.Error}}</td><td>{{.Reason}}</td><td>{{.AfterError}}</td><td>{{.Payload}}</td>
</tr>
{{end}}</table>{{else}}<p>None recorded.</p>{{end}}{{end}}
`
