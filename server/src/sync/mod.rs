//! Change propagation: keeps this server's atlas in step with writes that
//! other processes commit to the same store (another instance's edits, an
//! `envatlas import`, status changes from the ingesting instance).
//!
//! Every feature write records a change in the store's change log
//! ([`crate::store::change`]). A background task reads the log after the last
//! sequence number it has applied and refreshes the named features from the
//! store ([`refresh`]). It wakes on the PostGIS store's `NOTIFY` (a listener
//! task, reconnecting by itself) and, as a fallback that also covers missed
//! notifications, polls: every second on the embedded store, every few
//! seconds on PostGIS.
//!
//! - [`refresh`]: reading the change log and applying it to the atlas.

pub mod refresh;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::app::AppState;

/// Polling period of a store without notifications (the embedded store).
pub const POLL_WITHOUT_NOTIFY: Duration = Duration::from_secs(1);

/// Fallback polling period when notifications wake the follower.
pub const POLL_WITH_NOTIFY: Duration = Duration::from_secs(5);

/// Wait before re-subscribing after the notification connection failed.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// Starts following the change log from `from_seq` (the newest change the
/// loaded atlas already contains). Runs until the runtime shuts down.
pub fn spawn(state: AppState, from_seq: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(follow(state, from_seq))
}

async fn follow(state: AppState, from_seq: i64) {
    let wake = Arc::new(Notify::new());
    let poll = match state.store.change_notifications().await {
        Ok(Some(notifications)) => {
            tokio::spawn(listen(notifications, wake.clone()));
            POLL_WITH_NOTIFY
        }
        Ok(None) => POLL_WITHOUT_NOTIFY,
        Err(e) => {
            tracing::warn!(error = %e, "no change notifications; polling the change log");
            POLL_WITHOUT_NOTIFY
        }
    };
    let mut last = from_seq;
    let mut failing = false;
    loop {
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
        match refresh::catch_up(&state, &mut last).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!(seq = last, "change log readable again");
            }
            Ok(_) => {}
            // Logged once per outage, not once per poll.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot read the change log; retrying");
            }
            Err(_) => {}
        }
    }
}

/// Forwards notifications to the follower; re-subscribes after failures.
async fn listen(mut notifications: Box<dyn crate::store::ChangeNotifications>, wake: Arc<Notify>) {
    let mut failing = false;
    loop {
        match notifications.next().await {
            Ok(()) => {
                if failing {
                    failing = false;
                    tracing::info!("change notifications resumed");
                }
                wake.notify_one();
            }
            Err(e) => {
                if !failing {
                    failing = true;
                    tracing::warn!(error = %e, "change notifications lost; re-subscribing");
                }
                tokio::time::sleep(RESUBSCRIBE_AFTER).await;
                // Whatever was missed meanwhile is in the change log.
                wake.notify_one();
            }
        }
    }
}
