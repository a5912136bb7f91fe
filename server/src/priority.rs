//! Admission runs below the block producer's scheduling priority.
//!
//! A running node admits the next block's transactions while it produces the current one, and
//! both want every core. The admission pool is separate from the executor's (so a block never
//! queues behind a batch of signature checks), which oversubscribes the cores, and a block's
//! workers then wait on one another whenever the scheduler parks one of them behind a verifying
//! thread (on 16 cores, execution went from 1.6 to 15–21 ms per block while admission ran
//! beside it). So the admission pool runs at idle priority ([`lower_current_thread`]): when a
//! block's workers are runnable they get the cores, and admission uses every cycle left.
//!
//! Only admission: an idle thread waits for as long as normal threads keep every core busy.
//! For a batch of submissions that is backpressure; the indexer and the janitor, single threads
//! the chain waits for when they fall behind, keep the default priority.

/// Moves the calling thread to Linux's `SCHED_IDLE` policy: it runs only on a core no normal
/// thread wants, and a normal thread that wakes up on its core preempts it at once (a lower
/// nice value was not enough: the scheduler lets a running thread finish its slice, and a
/// block's worker waited behind it for milliseconds). Best effort: where the policy cannot be
/// set, the thread keeps its own.
pub fn lower_current_thread() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        let _ = set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        );
    }
}

/// The admission pool, where batches of transactions are checked: one thread per core, each
/// lowered by [`lower_current_thread`].
///
/// # Panics
/// If the operating system refuses to start the threads.
pub fn admission_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
        .thread_name(|i| format!("joule-admit-{i}"))
        .start_handler(|_| lower_current_thread())
        .build()
        .expect("start the admission thread pool")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use thread_priority::unix::{
        thread_schedule_policy, NormalThreadSchedulePolicy, ThreadSchedulePolicy,
    };

    use super::*;

    fn policy() -> ThreadSchedulePolicy {
        thread_schedule_policy().unwrap()
    }

    const IDLE: ThreadSchedulePolicy =
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);

    #[test]
    fn admission_threads_run_at_idle_priority() {
        assert_eq!(admission_pool().install(policy), IDLE);
    }

    #[test]
    fn lowering_touches_the_calling_thread_only() {
        let mine = policy();
        let theirs = std::thread::spawn(|| {
            lower_current_thread();
            policy()
        })
        .join()
        .unwrap();
        assert_eq!(theirs, IDLE);
        assert_eq!(policy(), mine);
        assert_ne!(mine, IDLE);
    }
}
