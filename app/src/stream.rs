//! This tab's connection to the node's block stream (`/api/v1/stream`, Server-Sent Events):
//! open only while the page is shown and visible. Chromium opens at most six connections per
//! host, so a stream left open by a hidden tab, or by a page in the back/forward cache,
//! starves every other page of the node; closing it when hidden means however many tabs are
//! open, only the one in front holds a stream. (Sharing one stream across tabs would save that
//! one too, at the cost of a leader election between tabs: not needed for a page people look
//! at one at a time.) A hidden tab does nothing: it catches up when shown again.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

type OnData = Rc<dyn Fn(String)>;

/// The open stream and its listener (dropping the listener would detach it).
struct Open {
    source: EventSource,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

thread_local! {
    static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
}

/// Whether the page is hidden (another tab in front, minimised, or being put away).
pub fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

fn open(on_data: &OnData) {
    if OPEN.with_borrow(Option::is_some) || hidden() {
        return;
    }
    let Ok(source) = EventSource::new("/api/v1/stream") else {
        return; // polling covers it
    };
    let on_data = on_data.clone();
    let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(text) = ev.data().as_string() {
            on_data(text);
        }
    });
    let _ = source.add_event_listener_with_callback("block", listener.as_ref().unchecked_ref());
    OPEN.set(Some(Open {
        source,
        _listener: listener,
    }));
}

fn close() {
    if let Some(open) = OPEN.take() {
        open.source.close();
    }
}

/// Follows the stream for the life of the page: `on_data` gets each block event's data;
/// `on_shown` runs when the page is shown again after being hidden or cached (to catch up).
pub fn follow(on_data: impl Fn(String) + 'static, on_shown: impl Fn() + 'static) {
    let on_data: OnData = Rc::new(on_data);
    open(&on_data);
    let Some(window) = web_sys::window() else {
        return;
    };
    let listen = |target: &web_sys::EventTarget, event: &str, f: Box<dyn FnMut()>| {
        let f = Closure::<dyn FnMut()>::wrap(f);
        let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
        // Registered once per page load, for its whole life.
        f.forget();
    };
    let on_shown = Rc::new(on_shown);
    let show = move || {
        open(&on_data);
        if !hidden() {
            on_shown();
        }
    };
    let show_again = show.clone();
    listen(&window, "pagehide", Box::new(close));
    listen(&window, "pageshow", Box::new(show));
    if let Some(document) = window.document() {
        listen(
            &document,
            "visibilitychange",
            Box::new(move || if hidden() { close() } else { show_again() }),
        );
    }
}
