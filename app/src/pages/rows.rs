//! Table rows shared by pages.

use joule_light_client::units::format_amount;
use joule_light_client::{Payload, ProvenTx};
use leptos::prelude::*;

use crate::ui::{AccountLink, TxLink};

/// A proven transaction as a table row: `position`, id, sender, recipient, amount, outcome —
/// every value from the proof.
pub fn proven_tx_row(t: &ProvenTx, position: String) -> AnyView {
    let (to, amount) = match &t.tx().tx.payload {
        Payload::Transfer { to, amount } => (*to, format_amount(*amount)),
        _ => (t.sender(), "—".to_owned()),
    };
    view! {
        <tr>
            <td>{position}</td>
            <td><TxLink id=t.id()/></td>
            <td class="hide-narrow"><AccountLink address=t.sender()/></td>
            <td><AccountLink address=to/></td>
            <td>{amount}</td>
            <td>{t.outcome().status.label()}</td>
        </tr>
    }
    .into_any()
}
