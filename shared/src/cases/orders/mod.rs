//! The order's life: placing it ([`place`]), its payment ([`payment`]), its dispatch
//! to stores ([`dispatch`]), the counter ([`pickup`]), parcels that travel
//! ([`shipping`]: packed, handed to a courier, tracked, ended), its timers (an unpaid
//! order's deadline, [`timeouts`]; a parcel's pickup window, [`pickup_window`]; a
//! shipped parcel's handover, silence and loss, [`shipping`]).

pub mod dispatch;
pub mod payment;
pub mod pickup;
pub mod pickup_window;
pub mod place;
pub mod shipping;
pub mod timeouts;
