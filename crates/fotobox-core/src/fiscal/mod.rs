//! Fiscal receipts (issue 15): the receipt items Click's `ofd_data` wants (`items`), the job
//! that fiscalises each paid Click order through the Merchant API (`click_job`).

pub mod click_job;
pub mod items;
