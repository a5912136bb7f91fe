//! A button copying a value (an address, a hash) to the clipboard, saying whether it worked.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

/// What the button shows after a click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Copied,
    Failed,
}

/// Copies `text`; `what` names it for screen readers ("Copy address").
#[component]
pub fn CopyButton(#[prop(into)] text: String, #[prop(into)] what: String) -> impl IntoView {
    let state = RwSignal::new(State::Idle);
    let label = format!("Copy {what}");
    let copy = move |_| {
        let Some(window) = web_sys::window() else {
            state.set(State::Failed);
            return;
        };
        let promise = window.navigator().clipboard().write_text(&text);
        spawn_local(async move {
            let ok = JsFuture::from(promise).await.is_ok();
            state.set(if ok { State::Copied } else { State::Failed });
            gloo_timers::future::TimeoutFuture::new(1_500).await;
            state.set(State::Idle);
        });
    };
    view! {
        <button type="button" class="copy" title=label.clone() aria-label=label on:click=copy>
            {move || match state.get() {
                State::Idle => "copy",
                State::Copied => "✓ copied",
                State::Failed => "copy failed: select the text",
            }}
        </button>
    }
}
