//! A value loaded asynchronously, reloaded when what its loader reads changes: the pages'
//! one way to fetch and verify. (Leptos' resources and suspense boundaries do the same with
//! more machinery, instantiated again for every page; this keeps the app within its size
//! budget.)

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// A loader's future.
pub type Loading<T> = Pin<Box<dyn Future<Output = T>>>;

/// Runs `load` now and again whenever a signal it reads (before its first `.await`) changes;
/// the signal holds the latest result (`None` until the first one). A result that arrives
/// after a newer load started is dropped.
pub fn loaded<T: 'static>(
    load: impl Fn() -> Loading<T> + 'static,
) -> ReadSignal<Option<T>, LocalStorage> {
    let value = RwSignal::new_local(None);
    let generation = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        let future = load();
        let this = generation.get() + 1;
        generation.set(this);
        let generation = generation.clone();
        spawn_local(async move {
            let v = future.await;
            if generation.get() == this {
                value.set(Some(v));
            }
        });
    });
    value.read_only()
}
