-- Demo data for the local cluster (make run loads it once, into an empty database, in one
-- transaction): a shoe and shirt shop, its catalogue, three customers and their chats.
--
-- The chats go in the way production data does: inbound messages as Cloud API webhook
-- notifications through convo.ingest, the shop's replies through convo.record_outbound.
-- Times are relative to the load, so the main conversation's 24 h window is open for a day
-- after it and its 72 h entry point window for three.
--
--   Lucia Ferraro  came from a Click-to-WhatsApp ad 3 h ago, asked for running shoes,
--                  reserved a pair; her last message is unanswered (the demo conversation)
--   Omar Haddad    asked about shipping two days ago: his window has closed
--   Mei Tanaka     sent two messages at once 5 h ago (one notification, two messages)

-- Unix seconds (as Meta writes them in `timestamp`) and the time of `ago` before the load.
CREATE FUNCTION pg_temp.at(ago interval) RETURNS timestamptz
LANGUAGE sql STABLE
RETURN date_trunc('second', now()) - ago;

CREATE FUNCTION pg_temp.unix(ago interval) RETURNS text
LANGUAGE sql STABLE
RETURN extract(epoch FROM pg_temp.at(ago))::bigint::text;

SELECT convo.register_account('Demo Shop', '100200300400', '+1 555 010 0200', 'waba-demo')
    AS account \gset

INSERT INTO convo.products (account_id, sku, name, price, stock, attributes) VALUES
    (:'account', 'SH-RUN-WHT', 'Stride Runner (white)', 89.90, 14,
     '{"category": "shoes", "brand": "Stride", "color": "white", "sizes": [39, 40, 41, 42, 43, 44]}'),
    (:'account', 'SH-RUN-BLK', 'Stride Runner (black)', 89.90, 3,
     '{"category": "shoes", "brand": "Stride", "color": "black", "sizes": [41, 42]}'),
    (:'account', 'SH-TRL-GRN', 'Stride Trail Pro', 129.00, 6,
     '{"category": "shoes", "brand": "Stride", "color": "olive", "sizes": [40, 41, 42, 43], "waterproof": true}'),
    (:'account', 'SH-CNV-RED', 'Harbor Canvas Low', 49.50, 22,
     '{"category": "shoes", "brand": "Harbor", "color": "red", "sizes": [36, 37, 38, 39, 40, 41]}'),
    (:'account', 'SH-CNV-NVY', 'Harbor Canvas High', 54.50, 0,
     '{"category": "shoes", "brand": "Harbor", "color": "navy", "sizes": [38, 39, 40, 41, 42]}'),
    (:'account', 'SH-LTH-BRN', 'Oakline Leather Derby', 159.00, 4,
     '{"category": "shoes", "brand": "Oakline", "color": "brown", "sizes": [41, 42, 43, 44, 45]}'),
    (:'account', 'TS-BSC-WHT', 'Basic Tee (white)', 19.90, 40,
     '{"category": "shirts", "brand": "Loomwell", "color": "white", "sizes": ["S", "M", "L", "XL"], "material": "cotton"}'),
    (:'account', 'TS-BSC-BLK', 'Basic Tee (black)', 19.90, 35,
     '{"category": "shirts", "brand": "Loomwell", "color": "black", "sizes": ["S", "M", "L", "XL"], "material": "cotton"}'),
    (:'account', 'SH-OXF-BLU', 'Oxford Shirt', 59.00, 12,
     '{"category": "shirts", "brand": "Loomwell", "color": "light blue", "sizes": ["M", "L", "XL"], "fit": "slim"}'),
    (:'account', 'SH-LIN-SND', 'Linen Shirt', 64.00, 8,
     '{"category": "shirts", "brand": "Tidewater", "color": "sand", "sizes": ["S", "M", "L"], "material": "linen"}');
UPDATE convo.products SET active = false WHERE account_id = :'account' AND sku = 'SH-CNV-NVY';

-- Lucia, from an ad: the referral on her first message is the entry point.
SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Lucia Ferraro" }, "wa_id": "15550142871" }],
        "messages": [{
          "from": "15550142871",
          "id": "wamid.DEMO.in.lucia.1",
          "timestamp": "%s",
          "type": "text",
          "text": { "body": "Hi! Do you have the Stride Runner in size 42?" },
          "referral": {
            "source_url": "https://fb.me/demo-stride-runner",
            "source_id": "120210000000001",
            "source_type": "ad",
            "headline": "Stride Runner: light, fast, yours",
            "body": "Tap to ask about sizes and colours.",
            "media_type": "image",
            "image_url": "https://example.com/stride-runner.jpg",
            "ctwa_clid": "demo-ctwa-clid-0001"
          }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('3 hours'))::jsonb);

SELECT cv.conversation_id AS lucia
  FROM convo.conversations cv JOIN convo.contacts ct USING (account_id, contact_id)
 WHERE cv.account_id = :'account' AND ct.wa_id = '15550142871' \gset

-- The reply within 24 h of the ad click opens the 72 h entry point window.
SELECT convo.record_outbound(:'lucia', 'wamid.DEMO.out.lucia.1', '{
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550142871",
    "type": "text",
    "text": { "body": "Hi Lucia! Yes: the Stride Runner in white comes in 42, $89.90. Shall I keep a pair for you?" }
}', pg_temp.at('2 hours 58 minutes'));

-- Meta reports that reply read.
SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "statuses": [{
          "id": "wamid.DEMO.out.lucia.1",
          "status": "read",
          "timestamp": "%s",
          "recipient_id": "15550142871",
          "pricing": { "billable": false, "pricing_model": "PMP",
                       "type": "free_entry_point", "category": "referral_conversion" }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('2 hours 57 minutes'))::jsonb);

SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Lucia Ferraro" }, "wa_id": "15550142871" }],
        "messages": [{
          "from": "15550142871",
          "id": "wamid.DEMO.in.lucia.2",
          "timestamp": "%s",
          "type": "text",
          "text": { "body": "Do you also have it in black?" }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('2 hours 55 minutes'))::jsonb);

SELECT convo.record_outbound(:'lucia', 'wamid.DEMO.out.lucia.2', '{
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550142871",
    "type": "interactive",
    "interactive": {
      "type": "button",
      "body": { "text": "Black is in stock in 41 and 42 (3 pairs left). Which size?" },
      "action": { "buttons": [
        { "type": "reply", "reply": { "id": "SH-RUN-BLK:41", "title": "41" } },
        { "type": "reply", "reply": { "id": "SH-RUN-BLK:42", "title": "42" } }
      ] }
    }
}', pg_temp.at('2 hours 54 minutes'));

-- She taps a button: an interactive reply pointing at the shop's message.
SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Lucia Ferraro" }, "wa_id": "15550142871" }],
        "messages": [{
          "context": { "from": "15550100200", "id": "wamid.DEMO.out.lucia.2" },
          "from": "15550142871",
          "id": "wamid.DEMO.in.lucia.3",
          "timestamp": "%s",
          "type": "interactive",
          "interactive": {
            "type": "button_reply",
            "button_reply": { "id": "SH-RUN-BLK:42", "title": "42" }
          }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('2 hours 50 minutes'))::jsonb);

SELECT convo.record_outbound(:'lucia', 'wamid.DEMO.out.lucia.3', '{
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550142871",
    "type": "text",
    "text": { "body": "Done: one pair of Stride Runner, black, size 42, kept for you until tomorrow evening." },
    "context": { "message_id": "wamid.DEMO.in.lucia.3" }
}', pg_temp.at('2 hours 49 minutes'));

SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Lucia Ferraro" }, "wa_id": "15550142871" }],
        "messages": [{
          "from": "15550142871",
          "id": "wamid.DEMO.in.lucia.4",
          "timestamp": "%s",
          "type": "text",
          "text": { "body": "Great, thanks! Can I pick them up tomorrow morning?" }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('40 minutes'))::jsonb);

-- Omar, two days ago: answered, then silent, so only a template may reach him now.
SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Omar Haddad" }, "wa_id": "15550142872" }],
        "messages": [{
          "from": "15550142872",
          "id": "wamid.DEMO.in.omar.1",
          "timestamp": "%s",
          "type": "text",
          "text": { "body": "Hello, do you ship to Canada?" }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('2 days 1 hour'))::jsonb);

SELECT cv.conversation_id AS omar
  FROM convo.conversations cv JOIN convo.contacts ct USING (account_id, contact_id)
 WHERE cv.account_id = :'account' AND ct.wa_id = '15550142872' \gset

SELECT convo.record_outbound(:'omar', 'wamid.DEMO.out.omar.1', '{
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550142872",
    "type": "text",
    "text": { "body": "Hi Omar, we do: 5 to 7 business days, free above $100." }
}', pg_temp.at('2 days 55 minutes'));

-- Mei, 5 h ago: a question and a photo in one notification, both unanswered. She also
-- carries a business-scoped user id (BSUID) next to her phone number.
SELECT convo.ingest('whatsapp', format($json$
{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "waba-demo",
    "changes": [{
      "field": "messages",
      "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100200", "phone_number_id": "100200300400" },
        "contacts": [{ "profile": { "name": "Mei Tanaka" }, "wa_id": "15550142873",
                       "user_id": "US.7300192837465001" }],
        "messages": [{
          "from": "15550142873",
          "from_user_id": "US.7300192837465001",
          "id": "wamid.DEMO.in.mei.1",
          "timestamp": "%s",
          "type": "text",
          "text": { "body": "Is the linen shirt available in M?" }
        }, {
          "from": "15550142873",
          "from_user_id": "US.7300192837465001",
          "id": "wamid.DEMO.in.mei.2",
          "timestamp": "%s",
          "type": "image",
          "image": {
            "caption": "This one, from your window display",
            "mime_type": "image/jpeg",
            "sha256": "bW9jayBpbWFnZSBieXRlcyBmb3IgdGhlIGRlbW8=",
            "id": "900100200300400"
          }
        }]
      }
    }]
  }]
}
$json$, pg_temp.unix('5 hours'), pg_temp.unix('4 hours 59 minutes'))::jsonb);
