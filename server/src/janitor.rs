//! Drops large values on a thread of its own, off the block's path: freeing the nodes of the
//! state tree a block replaced takes tens of milliseconds at a million accounts.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Values queued before [`Janitor::discard`] waits for the thread to catch up.
const QUEUE: usize = 4;

/// A thread that drops what it is given.
#[derive(Debug)]
pub struct Janitor {
    queue: Option<SyncSender<Box<dyn Send>>>,
    thread: Option<JoinHandle<()>>,
}

impl Janitor {
    /// Starts the thread; without one (the system refused it), values are dropped in place.
    pub fn new() -> Self {
        let (queue, rx) = sync_channel::<Box<dyn Send>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("joule-janitor".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok();
        Janitor {
            queue: thread.as_ref().map(|_| queue),
            thread,
        }
    }

    /// Drops `value` on the janitor's thread; waits while [`QUEUE`] values are still queued,
    /// so a producer faster than the janitor slows down instead of piling up memory.
    pub fn discard<T: Send + 'static>(&self, value: T) {
        if let Some(q) = &self.queue {
            // On failure (the thread ended) the value comes back inside the error and is
            // dropped here.
            let _ = q.send(Box::new(value));
        }
    }
}

impl Default for Janitor {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Janitor {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has dropped what was queued.
        self.queue.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn everything_discarded_is_dropped_by_the_time_the_janitor_is() {
        let dropped = Arc::new(AtomicUsize::new(0));
        let janitor = Janitor::new();
        for _ in 0..100 {
            janitor.discard(Counted(dropped.clone()));
        }
        drop(janitor);
        assert_eq!(dropped.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn values_are_dropped_off_the_callers_thread() {
        let (tx, rx) = std::sync::mpsc::channel();
        struct Where(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Where {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        let janitor = Janitor::new();
        janitor.discard(Where(tx));
        drop(janitor);
        assert_ne!(rx.recv().unwrap(), std::thread::current().id());
    }
}
