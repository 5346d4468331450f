//! The customer's digital-copy page (`/p/{token}` asked for by a browser, internet-facing
//! through the tunnel): the photo, a download button and, once the provider has issued it, the
//! fiscal receipt's link and QR. No script, a strict content security policy, no referrer (the
//! token is in the address and must not reach the receipt's site).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use fotobox_core::fiscal::receipts::{Receipt, ReceiptState};

/// Headers of the page: nothing but its own images and inline style, never in a frame.
const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Longest receipt link shown (the tax committee's links are about 100 characters).
const MAX_LINK: usize = 512;

/// `text` for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The receipt link when it is a plain http(s) address (it comes from the provider).
fn safe_link(url: &str) -> Option<&str> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= MAX_LINK
        && !url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\\'));
    ok.then_some(url)
}

/// The page for the copy at `/p/{token}` of order `order_id`.
pub fn render(token: &str, order_id: &str, receipt: Option<&Receipt>) -> String {
    let token = escape(token);
    let order = escape(order_id);
    let receipt_html = match receipt {
        Some(r) => match r.url.as_deref().and_then(safe_link) {
            Some(url) => {
                let qr = fotobox_render::qr::render_svg(url).unwrap_or_default();
                let link = escape(url);
                format!(
                    "<section class=\"receipt\" id=\"receipt\"><h2>Fiskal chek · Фискальный чек · Fiscal receipt</h2>\
                     <div class=\"qr\">{qr}</div>\
                     <a href=\"{link}\" rel=\"noreferrer noopener\" target=\"_blank\">{link}</a></section>"
                )
            }
            None if matches!(r.state, ReceiptState::Waiting | ReceiptState::Submitted) => {
                "<p class=\"note\" id=\"receipt-pending\">Fiskal chek tayyorlanmoqda: sahifani keyinroq oching. · \
                 Чек ещё оформляется: откройте страницу позже. · \
                 The fiscal receipt is on its way: open this page again later.</p>"
                    .to_string()
            }
            None => String::new(),
        },
        None => String::new(),
    };
    format!(
        "<!doctype html>\n<html lang=\"uz\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>Fotobox · {order}</title><style>\
         body{{margin:0;font-family:system-ui,sans-serif;background:#0f1115;color:#f4f4f6;text-align:center}}\
         main{{max-width:40rem;margin:auto;padding:1rem}}\
         h1{{letter-spacing:.3em;color:#ffcc00}}\
         img{{max-width:100%;max-height:70vh;box-shadow:0 .5rem 2rem #000}}\
         .btn{{display:inline-block;margin:1.2rem 0;padding:.9rem 1.6rem;border-radius:.6rem;background:#ffcc00;color:#111;font-weight:700;text-decoration:none}}\
         .receipt{{background:#fff;color:#111;border-radius:.6rem;padding:1rem;margin-top:1rem}}\
         .receipt a{{color:#0645ad;word-break:break-all}}\
         .qr svg{{width:14rem;height:14rem}}\
         .note{{color:#b9bcc6}}\
         </style></head><body><main>\
         <h1>FOTOBOX</h1>\
         <img src=\"/p/{token}/photo.jpg\" alt=\"Surat · Фото · Photo {order}\">\
         <div><a class=\"btn\" id=\"download\" href=\"/p/{token}/download\" download=\"fotobox-{order}.jpg\">\
         Yuklab olish · Скачать · Download</a></div>\
         {receipt_html}\
         </main></body></html>\n"
    )
}

/// The page as a response with its headers.
pub fn response(token: &str, order_id: &str, receipt: Option<&Receipt>) -> Response {
    let mut resp = render(token, order_id, receipt).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn receipt(url: Option<&str>, state: ReceiptState) -> Receipt {
        Receipt {
            provider: "payme",
            state,
            url: url.map(str::to_string),
            updated_at: None,
        }
    }

    #[test]
    fn a_receipt_link_from_the_provider_is_escaped_or_left_out() {
        let hostile = "https://ofd.soliq.uz/check?a=1&b=\"><script>alert(1)</script>";
        let page = render(
            "tok",
            "AB12-CD34",
            Some(&receipt(Some(hostile), ReceiptState::Issued)),
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            !page.contains("id=\"receipt\""),
            "a link with quotes is not shown"
        );
        for bad in ["javascript:alert(1)", "data:text/html,x", "https://a b"] {
            let page = render(
                "tok",
                "AB12-CD34",
                Some(&receipt(Some(bad), ReceiptState::Issued)),
            );
            assert!(!page.contains("id=\"receipt\""), "{bad}");
        }
        let good = "https://ofd.soliq.uz/check?t=EP000000000123&r=1&c=20261129&s=1&v=1";
        let page = render(
            "tok",
            "AB12-CD34",
            Some(&receipt(Some(good), ReceiptState::Issued)),
        );
        assert!(page.contains("id=\"receipt\""));
        assert!(page.contains("https://ofd.soliq.uz/check?t=EP000000000123&amp;r=1"));
        assert!(page.contains("<svg"), "the receipt's QR");
    }

    #[test]
    fn the_page_says_when_the_receipt_is_still_coming() {
        let page = render(
            "tok",
            "AB12-CD34",
            Some(&receipt(None, ReceiptState::Waiting)),
        );
        assert!(page.contains("receipt-pending"));
        let page = render(
            "tok",
            "AB12-CD34",
            Some(&receipt(None, ReceiptState::NotNeeded)),
        );
        assert!(!page.contains("receipt-pending"));
        let page = render("tok", "AB12-CD34", None);
        assert!(!page.contains("id=\"receipt"));
        assert!(page.contains("/p/tok/photo.jpg") && page.contains("/p/tok/download"));
    }
}
