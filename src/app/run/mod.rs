pub mod session;
pub mod views;
