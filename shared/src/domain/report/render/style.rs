//! The page's CSS, inline: nothing is fetched.

pub(super) const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;color:#1d2329;background:#f4f5f7}\
.wrap{max-width:1100px;margin:0 auto;padding:12px}\
h1{font-size:1.5em;margin:.3em 0}\
h2{font-size:1.15em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid #d5d9de}\
nav{font-size:.9em}nav a{margin-right:.8em;color:#2f6f8f}\
.edition{display:inline-block;margin:0;padding:.25em .8em;border-radius:4px;font-weight:700;letter-spacing:.05em;text-transform:uppercase}\
.edition small{font-weight:400;text-transform:none;letter-spacing:0}\
.interim{background:#ffe8b3;color:#6b4500;border:1px solid #e0a800}\
.final{background:#d6f2dd;color:#14532d;border:1px solid #3a9d5d}\
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.6em 0}\
.meta dt{color:#5b6670}.meta dd{margin:0}\
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}\
.fig-box{background:#fff;border:1px solid #dde1e5;border-radius:6px;padding:8px 10px}\
.fig-box .k,.fig-box .note{display:block;color:#5b6670;font-size:.82em}\
.fig-box .v{display:block;font-size:1.35em;font-weight:650;font-variant-numeric:tabular-nums}\
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e5;border-radius:6px;margin:8px 0}\
table{border-collapse:collapse;width:100%;font-size:.92em}\
th,td{padding:5px 8px;border-bottom:1px solid #eceef0;text-align:left;white-space:nowrap}\
thead th{background:#f0f2f4;font-weight:600}.kv th{font-weight:400;color:#5b6670}\
.n{text-align:right;font-variant-numeric:tabular-nums}\
tfoot td{font-weight:600;border-top:2px solid #d5d9de}\
tr.open td{background:#fff4e0}\
.sz{display:inline-block;margin-right:.7em}\
.empty,.muted{color:#5b6670}.empty{font-style:italic}\
.chart{overflow-x:auto;margin:8px 0}svg{display:block;max-width:100%;height:auto;background:#fff;border:1px solid #dde1e5;border-radius:6px}\
svg text{font-size:12px;fill:#1d2329}svg text.muted{fill:#5b6670}svg text.small{font-size:10px}svg text.fig{font-weight:600}\
.bar{fill:#2f6f8f}.axis{stroke:#9aa3ab}.grid{stroke:#c9ced3;stroke-dasharray:4 3}\
footer{margin:2em 0 1em;font-size:.82em;color:#5b6670}";
