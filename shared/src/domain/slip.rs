//! The packing slip: one printable HTML page a clerk puts in a shipping parcel and
//! keeps a copy of: the order and parcel, the store, each unit to pack (SKU, size,
//! quantity) with a box to tick, and the buyer's city (never the street or phone: the
//! carrier's label carries those). Pure: the order in, the page out.

use super::order::Order;
use super::text::escape_html as esc;

/// The key of a parcel's packing slip in the blob store.
pub fn slip_key(order: &Order, parcel: u8) -> String {
    format!(
        "slips/{}/{}/{}-{parcel}.html",
        order.tenant.brand, order.tenant.group, order.id
    )
}

/// The page, or None for a parcel the order does not have.
pub fn slip_html(order: &Order, parcel: u8, store_name: &str) -> Option<String> {
    let p = order.parcels.iter().find(|p| p.id == parcel)?;
    let rows: String = p
        .items
        .iter()
        .map(|it| {
            let name = order
                .lines
                .get(it.line)
                .map(|l| l.priced.sku.to_string())
                .unwrap_or_default();
            format!(
                "<tr><td>☐</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&name),
                esc(it.size.as_str()),
                it.quantity
            )
        })
        .collect();
    let units: u32 = p.items.iter().map(|it| it.quantity).sum();
    let city = order
        .delivery
        .address
        .as_ref()
        .map(|a| format!("{} {} {}", a.province, a.city, a.district))
        .unwrap_or_default();
    Some(format!(
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>Packing slip {order} / {parcel}</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:.3em .8em}}</style></head>\
<body><h1>装箱单 Packing slip</h1><p>Order <b>{order}</b>, parcel <b>{parcel}</b> of {parcels}<br>From <b>{store}</b><br>To {city}</p>\
<table><tr><th></th><th>SKU</th><th>Size</th><th>Qty</th></tr>{rows}</table><p>{units} unit(s) in all. Packed by: ________</p></body></html>",
        order = esc(order.id.as_str()),
        parcels = order.parcels.len(),
        store = esc(store_name),
        city = esc(&city),
    ))
}
