//! The return authorisation (RMA) document: one printable HTML page with the order, the
//! units to send back, the return code as text and as a QR code, and the address of the
//! store that fulfilled them. Pure: the refund in, the page out.

use qrcode::render::svg;
use qrcode::QrCode;

use super::refund::Refund;

use super::text::escape_html as esc;

/// The code as an SVG QR code, for the store's scanner.
pub fn qr_svg(code: &str) -> String {
    match QrCode::new(code.as_bytes()) {
        Ok(qr) => qr
            .render::<svg::Color>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build()
            // The page is HTML: drop the XML declaration before inlining.
            .split_once("?>")
            .map(|(_, svg)| svg.to_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The key of a refund's RMA document in the blob store.
pub fn rma_key(refund: &Refund) -> String {
    format!(
        "rma/{}/{}/{}.html",
        refund.tenant.brand, refund.tenant.group, refund.id
    )
}

/// The printable page.
pub fn rma_html(refund: &Refund) -> String {
    let code = refund.rma_code.as_deref().unwrap_or_default();
    let rows: String = refund
        .lines
        .iter()
        .map(|l| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>¥{}.{:02}</td></tr>",
                esc(l.sku.as_str()),
                esc(l.size.as_str()),
                l.quantity,
                l.amount_fen.get() / 100,
                l.amount_fen.get() % 100
            )
        })
        .collect();
    let address = match &refund.return_address {
        Some(a) => format!(
            "{}<br>{} {} {}",
            esc(&a.line),
            esc(&a.district),
            esc(&a.city),
            esc(&a.province)
        ),
        None => "the store you collected it from".to_owned(),
    };
    let store = refund
        .return_store
        .as_ref()
        .map(|s| esc(s.as_str()))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Return {code}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; color: #222; }}
h1 {{ font-size: 1.4rem; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ccc; padding: .4rem; text-align: left; }}
.code {{ font-size: 2rem; letter-spacing: .2rem; font-family: monospace; }}
.box {{ display: flex; gap: 2rem; align-items: center; margin: 1rem 0; }}
@media print {{ body {{ margin: 0; }} }}
</style></head>
<body>
<h1>Return authorisation</h1>
<div class="box"><div>{qr}</div><div><div class="code" id="rma-code">{code}</div>
<p>Order <b>{order}</b><br>Refund {refund}</p></div></div>
<h2>Send back</h2>
<table><thead><tr><th>SKU</th><th>Size</th><th>Units</th><th>Refund</th></tr></thead>
<tbody>{rows}</tbody></table>
<p>Refund on receipt: <b>¥{yuan}.{fen:02}</b>, to the payment you made.</p>
<h2>To</h2>
<p id="return-address">Store {store}<br>{address}</p>
<p>Print this page and put it in the parcel, or show the code at the counter.</p>
</body></html>
"#,
        qr = qr_svg(code),
        order = esc(refund.order.as_str()),
        refund = esc(refund.id.as_str()),
        yuan = refund.amount_fen.get() / 100,
        fen = refund.amount_fen.get() % 100,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_inline_svg_and_text_is_escaped() {
        let svg = qr_svg("RMA-ABCD2345");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<path") || svg.contains("<rect"), "{svg}");
        assert!(!svg.contains("<?xml"));
        assert_eq!(esc("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
