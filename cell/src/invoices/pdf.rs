//! An invoice as a PDF (A4), written with `pdf-writer` in Helvetica, one of
//! the fonts every PDF reader has, so no font file ships and the text stays
//! extractable (`pdftotext`). Text is WinAnsi-encoded; characters outside it
//! print as `?`. Long invoices run onto further pages.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

use super::{Document, money};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
/// Where the table's rows stop and a new page starts.
const FOOTER: f32 = 90.0;

/// Column x positions: description, SKU, quantity (right edge), unit price
/// (right edge), line total (right edge).
const COLUMNS: [f32; 5] = [MARGIN, 290.0, 400.0, 475.0, WIDTH - MARGIN];
/// Right edges of the tax breakdown's net, tax and gross columns.
const TAX_COLUMNS: [f32; 3] = [365.0, 455.0, WIDTH - MARGIN];

/// One page's drawing, with a cursor moving down it.
struct Page {
    content: Content,
    y: f32,
}

impl Page {
    fn new() -> Self {
        Self {
            content: Content::new(),
            y: HEIGHT - MARGIN,
        }
    }

    fn text(&mut self, font: Name, size: f32, x: f32, y: f32, text: &str) {
        let bytes = win_ansi(text);
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// `text` ending at `right`.
    fn right(&mut self, font: Name, size: f32, right: f32, y: f32, text: &str) {
        let width = text_width(text, size, font == BOLD);
        self.text(font, size, right - width, y, text);
    }

    fn rule(&mut self, y: f32) {
        self.content
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(WIDTH - MARGIN, y)
            .stroke();
    }
}

/// The invoice's PDF.
pub fn render(document: &Document) -> Vec<u8> {
    let mut first = Page::new();
    head(&mut first, document);
    let mut pages = vec![first];
    for line in &document.lines {
        if pages.last().is_some_and(|p| p.y < FOOTER + 30.0) {
            let mut next = Page::new();
            next.text(
                BOLD,
                10.0,
                MARGIN,
                next.y,
                &format!("Invoice {} (continued)", document.number),
            );
            next.y -= 24.0;
            table_header(&mut next);
            pages.push(next);
        }
        if let Some(page) = pages.last_mut() {
            let y = page.y;
            page.text(REGULAR, 9.0, COLUMNS[0], y, &clip(&line.description, 50));
            page.text(REGULAR, 9.0, COLUMNS[1], y, &line.sku);
            page.right(REGULAR, 9.0, COLUMNS[2], y, &line.quantity.to_string());
            page.right(
                REGULAR,
                9.0,
                COLUMNS[3],
                y,
                &money(line.unit_price_minor, &document.currency),
            );
            page.right(
                REGULAR,
                9.0,
                COLUMNS[4],
                y,
                &money(line.total_minor, &document.currency),
            );
            page.y -= 15.0;
        }
    }
    if pages.last().is_some_and(|p| p.y < FOOTER + 150.0) {
        pages.push(Page::new());
    }
    if let Some(page) = pages.last_mut() {
        totals(page, document);
    }
    let count = pages.len();
    for (index, page) in pages.iter_mut().enumerate() {
        page.text(
            REGULAR,
            8.0,
            MARGIN,
            40.0,
            &format!(
                "{} - invoice {} - page {} of {count}",
                document.seller.name,
                document.number,
                index + 1
            ),
        );
    }
    assemble(document, pages)
}

fn head(page: &mut Page, document: &Document) {
    let top = page.y;
    page.text(BOLD, 20.0, MARGIN, top - 10.0, "INVOICE");
    page.text(
        REGULAR,
        10.0,
        MARGIN,
        top - 30.0,
        &format!("Invoice number: {}", document.number),
    );
    let issued = document.issued_at.get(..10).unwrap_or(&document.issued_at);
    page.text(
        REGULAR,
        10.0,
        MARGIN,
        top - 44.0,
        &format!("Date of issue: {issued}"),
    );
    page.text(
        REGULAR,
        10.0,
        MARGIN,
        top - 58.0,
        &format!("Order: {}", document.order_id),
    );

    let mut y = top - 10.0;
    let seller = &document.seller;
    page.right(BOLD, 10.0, WIDTH - MARGIN, y, &seller.name);
    for line in &seller.lines {
        y -= 13.0;
        page.right(REGULAR, 9.0, WIDTH - MARGIN, y, line);
    }
    if let Some(tax_id) = &seller.tax_id {
        y -= 13.0;
        page.right(
            REGULAR,
            9.0,
            WIDTH - MARGIN,
            y,
            &format!("VAT no. {tax_id}"),
        );
    }

    let mut y = top - 100.0;
    page.text(BOLD, 10.0, MARGIN, y, "Bill to");
    y -= 14.0;
    page.text(REGULAR, 10.0, MARGIN, y, &document.buyer.name);
    for line in &document.buyer.lines {
        y -= 13.0;
        page.text(REGULAR, 9.0, MARGIN, y, line);
    }
    if let Some(email) = &document.buyer.email {
        y -= 13.0;
        page.text(REGULAR, 9.0, MARGIN, y, email);
    }
    page.y = y - 30.0;
    table_header(page);
}

fn table_header(page: &mut Page) {
    let y = page.y;
    page.text(BOLD, 9.0, COLUMNS[0], y, "Item");
    page.text(BOLD, 9.0, COLUMNS[1], y, "SKU");
    page.right(BOLD, 9.0, COLUMNS[2], y, "Qty");
    page.right(BOLD, 9.0, COLUMNS[3], y, "Unit price");
    page.right(BOLD, 9.0, COLUMNS[4], y, "Total");
    page.rule(y - 5.0);
    page.y = y - 20.0;
}

fn totals(page: &mut Page, document: &Document) {
    page.rule(page.y + 8.0);
    let currency = &document.currency;
    let mut rows: Vec<(&str, String, bool)> =
        vec![("Subtotal", money(document.subtotal_minor, currency), false)];
    if document.discount_minor != 0 {
        rows.push(("Discount", money(-document.discount_minor, currency), false));
    }
    rows.push(("Shipping", money(document.shipping_minor, currency), false));
    rows.push(("Total", money(document.total_minor, currency), true));
    for (label, value, bold) in rows {
        page.y -= 8.0;
        let font = if bold { BOLD } else { REGULAR };
        let y = page.y;
        page.text(font, 10.0, COLUMNS[2] - 40.0, y, label);
        page.right(font, 10.0, COLUMNS[4], y, &value);
        page.y -= 8.0;
    }
    page.y -= 20.0;
    let tax = &document.tax;
    let y = page.y;
    page.text(BOLD, 9.0, MARGIN, y, "Tax breakdown");
    page.right(BOLD, 9.0, TAX_COLUMNS[0], y, "Net");
    page.right(BOLD, 9.0, TAX_COLUMNS[1], y, "Tax");
    page.right(BOLD, 9.0, TAX_COLUMNS[2], y, "Gross");
    page.y -= 14.0;
    let y = page.y;
    page.text(REGULAR, 9.0, MARGIN, y, &tax.label);
    page.right(
        REGULAR,
        9.0,
        TAX_COLUMNS[0],
        y,
        &money(tax.net_minor, currency),
    );
    page.right(
        REGULAR,
        9.0,
        TAX_COLUMNS[1],
        y,
        &money(tax.tax_minor, currency),
    );
    page.right(
        REGULAR,
        9.0,
        TAX_COLUMNS[2],
        y,
        &money(tax.gross_minor, currency),
    );
    page.y -= 24.0;
    let note = if tax.tax_minor == 0 {
        "Goods delivered outside the UK and EU: no VAT charged."
    } else {
        "Prices include VAT at the rate of the country of delivery."
    };
    let y = page.y;
    page.text(REGULAR, 8.0, MARGIN, y, note);
}

fn assemble(document: &Document, pages: Vec<Page>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i32::try_from(i).unwrap_or(0)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(1));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("Invoice {}", document.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("Cellwear"));
    for (page_id, page) in page_ids.iter().zip(pages) {
        let content_id = Ref::new(page_id.get() + 1);
        {
            let mut writer = pdf.page(*page_id);
            writer
                .media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
                .parent(tree)
                .contents(content_id);
            writer
                .resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
        }
        let data = page.content.finish();
        pdf.stream(content_id, data.as_slice());
    }
    pdf.finish()
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 3).collect();
    cut.push_str("...");
    cut
}

/// `text` in WinAnsiEncoding: ASCII and Latin-1 as they are, the euro sign
/// and typographic quotes where WinAnsi keeps them, anything else `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => u32::from(c) as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (thousandths of the size) for what invoices
/// print right-aligned: digits, capitals, punctuation; other characters
/// are taken as 556.
fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            '0'..='9' => 556,
            ' ' | '.' | ',' | '/' => 278,
            '-' => 333,
            ':' => {
                if bold {
                    333
                } else {
                    278
                }
            }
            'I' => 278,
            'J' => 500,
            'M' => 833,
            'W' => 944,
            'E' | 'K' | 'P' | 'S' | 'V' | 'X' | 'Y' | 'B' => 667,
            'C' | 'D' | 'H' | 'N' | 'R' | 'U' => 722,
            'G' | 'O' | 'Q' => 778,
            'A' => 667,
            'F' | 'T' | 'Z' => 611,
            'L' => 556,
            'i' | 'l' | 'j' => 222,
            'f' | 't' => 278,
            'r' => 333,
            'm' => 833,
            'w' => 722,
            'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' => 500,
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

#[cfg(test)]
mod tests {
    use super::super::tax;
    use super::super::{DocumentLine, Party};
    use super::*;

    fn document(lines: usize) -> Document {
        Document {
            number: "CW-CELL-0-00000042".into(),
            issued_at: "2026-11-26T10:00:00Z".into(),
            order_id: "0193a5e2-5a6b-7c3d-8e9f-a0b1c2d3e4f5".into(),
            seller: Party {
                name: "Cellwear Ltd".into(),
                lines: vec!["1 Savile Row".into(), "London W1S 3PR".into()],
                email: None,
                tax_id: Some("GB123456789".into()),
            },
            buyer: Party {
                name: "Zoë Ångström".into(),
                lines: vec!["2 High St".into(), "M1 1AE Manchester".into(), "GB".into()],
                email: Some("zoe@example.com".into()),
                tax_id: None,
            },
            currency: "GBP".into(),
            lines: (0..lines)
                .map(|i| DocumentLine {
                    sku: format!("SKU-{i}"),
                    description: format!("Oxford shirt {i} (M, blue)"),
                    quantity: 2,
                    unit_price_minor: 2_500,
                    total_minor: 5_000,
                })
                .collect(),
            subtotal_minor: 5_000 * lines as i64,
            discount_minor: 0,
            shipping_minor: 0,
            total_minor: 5_000 * lines as i64,
            tax: tax::breakdown("GB", 5_000 * lines as i64),
        }
    }

    #[test]
    fn a_pdf_comes_out_whole() {
        let pdf = render(&document(3));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.windows(5).any(|w| w == b"%%EOF"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("CW-CELL-0-00000042"));
        assert!(text.contains("/Count 1"));
    }

    #[test]
    fn long_invoices_run_onto_more_pages() {
        let pdf = render(&document(80));
        let text = String::from_utf8_lossy(&pdf);
        assert!(!text.contains("/Count 1\n"), "one page for 80 lines");
        assert!(text.contains("(continued)"));
    }

    #[test]
    fn text_is_win_ansi() {
        assert_eq!(win_ansi("Zoë €5"), vec![b'Z', b'o', 0xeb, b' ', 0x80, b'5']);
        assert_eq!(win_ansi("✓"), b"?");
        assert_eq!(clip("abcdefgh", 6), "abc...");
    }
}
