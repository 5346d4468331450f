//! Fiscal receipts (issue 15): the receipt items Click's `ofd_data` wants (`items`), the job
//! that fiscalises each paid Click order through the Merchant API (`click_job`), and an order's
//! receipt as staff and the customer see it, with the missing-receipt alert (`receipts`).

pub mod click_job;
pub mod items;
pub mod receipts;
