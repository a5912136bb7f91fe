//! End-to-end: the app in headless Chromium (see e2e tests below).
