//! Light and dark themes: the system's by default, or the one the user picked (remembered).

use leptos::prelude::*;

/// Where the choice is kept.
const STORAGE_KEY: &str = "joule.theme";

/// The user's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow the system (`prefers-color-scheme`).
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    fn stored() -> Self {
        match crate::storage::get(STORAGE_KEY).as_deref() {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        }
    }

    fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// Sets `data-theme` on `<html>` (the stylesheet keys on it) and remembers the choice.
    fn apply(self) {
        let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        let _ = match self {
            Theme::System => root.remove_attribute("data-theme"),
            t => root.set_attribute("data-theme", t.name()),
        };
        crate::storage::set(STORAGE_KEY, self.name());
    }
}

/// Applies the remembered theme (at start-up).
pub fn apply_stored_theme() {
    Theme::stored().apply();
}

/// A header button cycling system → light → dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::stored());
    let cycle = move |_| {
        let next = theme.get_untracked().next();
        next.apply();
        theme.set(next);
    };
    view! {
        <button type="button" id="theme" class="theme" on:click=cycle
            aria-label=move || format!("Theme: {} (click to change)", theme.get().name())>
            {move || match theme.get() {
                Theme::System => "◐",
                Theme::Light => "☀",
                Theme::Dark => "☾",
            }}
            // The name hides on a phone: the header keeps to two rows.
            <span class="theme-name">{move || format!(" {}", theme.get().name())}</span>
        </button>
    }
}
