//! Text from a request or from the record is escaped on every citizen page, through the real
//! server on both backends: markup typed by someone never reaches a reader as markup.

mod common;

use common::TestApp;
use serde_json::json;

both_backends!(markup_in_requests_and_records_is_shown_as_text);

const SCRIPT: &str = "<script>alert(1)</script>";

/// A `multipart/form-data` body like the appeal form's: one text field and one file.
fn multipart(
    reason: &str,
    code: &str,
    file_name: &str,
    ctype: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----efine-escaping-boundary-x81Kd";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\n{reason}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n{code}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{file_name}\"\r\n\
         Content-Type: {ctype}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn body_of(page: &str) -> &str {
    let at = page.find("<body").expect("a page with a body");
    &page[at..]
}

async fn markup_in_requests_and_records_is_shown_as_text(app: TestApp) {
    let token = app.officer().await;
    let (s, c) = app
        .issue(
            &token,
            json!({"offence_code": "no-helmet", "vehicle_number": "PES-4455",
                   "cnic": "17301-7654321-1", "name": "<b>Bold\" onmouseover=x",
                   "location": {"lat": 34.0151, "lon": 71.5249, "text": SCRIPT}}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let number = c["challan_number"].as_str().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The record: the masked name keeps its first characters, which are markup.
    let page = http
        .get(app.url(&format!("/c/{number}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body = body_of(&page);
    assert!(body.contains("&lt;*******"), "{body}");
    assert!(!body.contains("<b>") && !body.contains("<**"), "{body}");
    assert!(!body.contains("<script"), "{body}");

    // A vehicle search for markup: refused on the page, never echoed as markup.
    for q in ["\"><img src=x>", SCRIPT] {
        let r = http
            .post(app.url("/search"))
            .form(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{q}");
        let page = r.text().await.unwrap();
        assert!(
            !page.contains("<img") && !page.contains("<script"),
            "{page}"
        );
    }
    let r = http
        .post(app.url("/search/cnic"))
        .form(&[("cnic", SCRIPT)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("<script"));

    // A reason the form shows again after a problem: inside the textarea, as text.
    let reason = format!("</textarea>{SCRIPT}\"><img src=x>");
    let (ct, body) = multipart(&reason, "", "a.txt", "text/plain", b"x");
    let r = http
        .post(app.url(&format!("/c/{number}/appeal")))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(
            "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x&gt;</textarea>"
        ),
        "{page}"
    );
    assert!(!body_of(&page).contains("<script") && !page.contains("<img"));

    // An evidence file's name, from the request, on the "appeal lodged" page.
    let png = {
        let img = image::RgbImage::from_fn(2, 2, |_, _| image::Rgb([1, 2, 3]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let code = app.appeal_code(number).await;
    let (ct, body) = multipart(
        "the plate was misread",
        &code,
        "<img src=x onerror=alert(1)>.png",
        "image/png",
        &png,
    );
    let r = http
        .post(app.url(&format!("/c/{number}/appeal")))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;.png"),
        "{page}"
    );
    assert!(!page.contains("<img"), "{page}");

    // The verification page for a token that is markup.
    let r = http
        .get(app.url(&format!("/v/{}", urlencode(SCRIPT))))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("NOT GENUINE"), "{page}");
    assert!(!body_of(&page).contains("<script"), "{page}");
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
