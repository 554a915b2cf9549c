#pragma once

// The /status page: one self-contained HTML document (no external assets)
// that polls /status.json every two seconds and renders streams, lanes,
// checkpoints and recent errors. Readable on a laptop and on a phone.

namespace forcepipe::server {

inline constexpr const char* kStatusPageHtml = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>forcepipe status</title>
<style>
:root{--bg:#0f172a;--card:#111c33;--fg:#e2e8f0;--mut:#94a3b8;--ok:#22c55e;--bad:#ef4444;--warn:#f59e0b;--line:#1e293b}
@media (prefers-color-scheme: light){:root{--bg:#f8fafc;--card:#fff;--fg:#0f172a;--mut:#475569;--line:#e2e8f0}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:1rem 1.25rem;border-bottom:1px solid var(--line)}
h1{font-size:1.15rem;margin:0}h2{font-size:.95rem;margin:0 0 .6rem;color:var(--mut);text-transform:uppercase;letter-spacing:.05em}
.pill{padding:.15rem .6rem;border-radius:999px;font-weight:600;font-size:.8rem}
.ok{background:color-mix(in srgb,var(--ok) 20%,transparent);color:var(--ok)}.bad{background:color-mix(in srgb,var(--bad) 20%,transparent);color:var(--bad)}
main{display:grid;gap:1rem;padding:1rem 1.25rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,520px),1fr))}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;overflow-x:auto}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--mut);font-weight:500}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{height:6px;background:var(--line);border-radius:3px;min-width:60px}.bar>span{display:block;height:100%;border-radius:3px;background:var(--ok)}
.muted{color:var(--mut)}ul{margin:0;padding-left:1.1rem}.err{color:var(--bad)}code{font-size:.85em}
</style></head><body>
<header><h1>forcepipe</h1><span id="ready" class="pill">…</span><span class="muted" id="meta"></span></header>
<main>
<section style="grid-column:1/-1"><h2>Streams</h2><table id="sources"><thead><tr><th>source</th><th>kind</th><th>lane</th><th class="num">events</th><th class="num">events/s</th><th class="num">lag</th><th>state</th></tr></thead><tbody></tbody></table></section>
<section style="grid-column:1/-1"><h2>Lanes → sink <span id="sink"></span></h2><table id="lanes"><thead><tr><th>lane</th><th>queue fill</th><th class="num">delivered</th><th class="num">/s</th><th class="num">dropped</th><th class="num">retries</th><th>sink health</th><th class="num">checkpoint age</th></tr></thead><tbody></tbody></table></section>
<section><h2>Checkpoints</h2><table id="cps"><thead><tr><th>key</th><th>position</th></tr></thead><tbody></tbody></table></section>
<section style="grid-column:1/-1"><h2>Recent warnings and errors</h2><ul id="errors"></ul><p class="muted" id="reasons"></p></section>
</main>
<script>
const fmt=n=>n==null?'–':Number(n).toLocaleString(undefined,{maximumFractionDigits:1});
const dur=s=>s==null?'–':s<120?fmt(s)+' s':s<7200?fmt(s/60)+' min':fmt(s/3600)+' h';
const esc=s=>String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function rows(id,list,f){document.querySelector('#'+id+' tbody').innerHTML=list.map(f).join('')||'<tr><td class="muted" colspan="8">none</td></tr>';}
async function tick(){
  try{
    const r=await fetch('status.json',{cache:'no-store'});const s=await r.json();
    const rd=document.getElementById('ready');rd.textContent=s.ready?'ready':'not ready';rd.className='pill '+(s.ready?'ok':'bad');
    document.getElementById('meta').textContent='v'+s.version+' · '+new Date(s.now_ms).toLocaleTimeString();
    document.getElementById('sink').textContent=s.sink.kind;
    rows('sources',s.sources,x=>`<tr data-source="${esc(x.name)}"><td>${esc(x.name)}</td><td>${esc(x.kind)}</td><td>${x.lane}</td><td class="num events">${fmt(x.events)}</td><td class="num">${fmt(x.rate)}</td><td class="num">${dur(x.lag_s)}</td><td>${x.error?'<span class="err">'+esc(x.error)+'</span>':x.health?'<span class="err">'+esc(x.health)+'</span>':x.running?'running':'finished'}</td></tr>`);
    rows('lanes',s.lanes,x=>{const p=Math.min(100,100*Math.max(x.held_bytes/x.max_bytes,x.held_entries/x.max_entries));return `<tr><td>${x.name}</td><td><div class="bar" title="${fmt(p)}%"><span style="width:${p}%"></span></div></td><td class="num">${fmt(x.delivered)}</td><td class="num">${fmt(x.rate)}</td><td class="num">${fmt(x.dropped)}</td><td class="num">${fmt(x.retries)}</td><td>${x.failing_for_s==null?'<span class="pill ok">ok</span>':'<span class="pill bad">failing '+dur(x.failing_for_s)+'</span>'}</td><td class="num">${dur(x.checkpoint_age_s)}</td></tr>`});
    rows('cps',s.checkpoints,x=>`<tr><td><code>${esc(x.key)}</code></td><td><code>${esc(x.value)}</code></td></tr>`);
    document.getElementById('errors').innerHTML=s.recent_errors.slice(-15).reverse().map(e=>`<li><span class="muted">${new Date(e.ts_ms).toLocaleTimeString()} ${esc(e.component)}</span> ${esc(e.text)}</li>`).join('')||'<li class="muted">none</li>';
    document.getElementById('reasons').textContent=s.reasons.length?'Not ready: '+s.reasons.join('; '):'';
  }catch(e){const rd=document.getElementById('ready');rd.textContent='unreachable';rd.className='pill bad';}
}
tick();setInterval(tick,2000);
</script></body></html>
)HTML";

}  // namespace forcepipe::server
