//! What the dashboard and the transparency page share: their small stylesheet, the script that
//! reloads the page when the event log moves, and how a percentage is written.

use maud::{html, Markup};

// Beside the shared stylesheet: cards, charts and flags, and the wide main area.
pub(crate) const STYLE: &str = "main{max-width:72rem}\
td.n,th.n{text-align:end;direction:ltr;unicode-bidi:isolate}\
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #bbb;border-radius:.4rem;\
padding:.5rem .8rem;min-width:9rem}.card b{display:block;font-size:1.4rem}\
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0}svg{max-width:100%;height:auto}\
.flag{border-inline-start:4px solid #a11212;padding:.3rem .6rem;margin:.4rem 0;background:#fbeeee}\
.live{font-size:.85rem;color:#444}\
figcaption{font-weight:bold;margin:.25rem 0}.charts figure{flex:1 1 22rem;max-width:36rem}\
.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.9rem}\
.sw{display:inline-block;width:1rem;height:.8rem;vertical-align:middle;border:1px solid #555}\
.sw.blue{background:#8fafd0}.sw.green{background:#11691f;height:.25rem}.sw.partial{background:#d2dfec}\
.sw.band{background:#c5e0c9}.sw.heat-low{background:#f0c9c9}.sw.heat-high{background:#a11212}\
.tiles{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(7.5rem,1fr));gap:.3rem}\
.tile{padding:.3rem .4rem;border-radius:.3rem;font-size:.85rem;line-height:1.3;border:1px solid #999}\
.tile a{color:inherit}\
.b-4{background:#0b5d1e;color:#fff}.b-3{background:#5fa56b;color:#000}.b-2{background:#f1c75b;color:#000}\
.b-1{background:#c0392b;color:#fff}.b-none{background:#eee;color:#444}\
.flag details{margin:.25rem 0}.csv{white-space:nowrap}";

// Listens to the change stream and reloads once the log has moved past the page's `seq`.
pub(crate) const SCRIPT: &str =
    "(function(){var s=+document.getElementById('live').dataset.seq;if(!window.EventSource)return;\
var es=new EventSource('/api/v1/stats/stream');es.addEventListener('change',function(e){\
var n=JSON.parse(e.data).seq;if(n>s){es.close();location.reload();}});})();";

/// The page's own style, and the script that reloads it when the event log moves past `seq`.
pub(super) fn live(seq: i64) -> Markup {
    html! {
        link rel="stylesheet" href=(crate::pages::assets::dashboard_css());
        div id="live" data-seq=(seq) hidden {}
        script src=(crate::pages::assets::live_js()) {}
    }
}

pub(super) fn pct(v: f64) -> String {
    format!("{v:.1}%")
}
