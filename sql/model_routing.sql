-- Model routing: which model answers a customer's turn, decided from the text alone, before
-- any request to a language model. In this order:
--
--   cached  the response cache has an answer (sql/response_cache.sql): no model at all.
--   large   the text names something a tool deals with (a product, a price, the cart, an
--           order, a size, stock, buying, delivery, payment, a human...), however short:
--           getting tools right is the large model's job.
--   small   a short simple intent: greeting, thanks, yes, no, ok, goodbye, or emoji only.
--   large   anything else.
--
-- Model names and a profile's own simple intents come from the profile the conversation follows
-- (convo.effective_profile).
-- Word lists are matched against the normalized text (convo.normalize_text): no accents, no
-- punctuation, lower case.
--
-- Needs: common.sql (normalize_text, greeting_phrases, phrase_alternation),
-- response_cache.sql (the lookup), bot_profiles.sql (convo.effective_profile).

-- The built-in simple intents: French, English and Spanish (and a little Portuguese), as
-- normalized phrase -> intent; the greetings are the response cache's (convo.greeting_phrases).
-- A text is a simple intent when it is nothing but a sequence of such phrases ("hola buenas
-- tardes", "ok merci", "si por favor").
CREATE FUNCTION convo.simple_intent_phrases() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN convo.greeting_phrases() || jsonb '{
  "gracias": "thanks", "muchas gracias": "thanks", "muchisimas gracias": "thanks", "mil gracias": "thanks",
  "muy amable": "thanks",
  "de nada": "thanks", "con gusto": "thanks", "thanks": "thanks", "thank you": "thanks", "thanks a lot": "thanks",
  "thank you very much": "thanks", "thx": "thanks", "ty": "thanks", "you re welcome": "thanks",
  "no problem": "thanks", "merci": "thanks", "merci beaucoup": "thanks", "merci bien": "thanks",
  "mille mercis": "thanks", "de rien": "thanks", "obrigado": "thanks", "obrigada": "thanks",
  "si": "yes", "sip": "yes", "claro": "yes", "claro que si": "yes", "por supuesto": "yes", "exacto": "yes",
  "correcto": "yes", "asi es": "yes", "yes": "yes", "yeah": "yes", "yep": "yes", "yup": "yes", "sure": "yes",
  "of course": "yes", "oui": "yes", "ouais": "yes", "bien sur": "yes", "exactement": "yes", "sim": "yes",
  "no": "no", "nop": "no", "nope": "no", "nah": "no", "non": "no", "para nada": "no", "not really": "no",
  "nao": "no",
  "ok": "ok", "okay": "ok", "okey": "ok", "oki": "ok", "vale": "ok", "dale": "ok", "listo": "ok",
  "perfecto": "ok", "genial": "ok", "excelente": "ok", "bien": "ok", "muy bien": "ok", "bueno": "ok",
  "entendido": "ok", "de acuerdo": "ok", "perfect": "ok", "great": "ok", "cool": "ok", "nice": "ok",
  "good": "ok", "very good": "ok", "got it": "ok", "understood": "ok", "excellent": "ok", "d accord": "ok",
  "parfait": "ok", "super": "ok", "tres bien": "ok", "entendu": "ok", "top": "ok", "jaja": "ok", "lol": "ok",
  "mdr": "ok", "xd": "ok", "por favor": "ok", "please": "ok", "pls": "ok", "s il vous plait": "ok", "svp": "ok",
  "adios": "goodbye", "chao": "goodbye", "chau": "goodbye", "hasta luego": "goodbye", "hasta pronto": "goodbye",
  "hasta manana": "goodbye", "nos vemos": "goodbye", "bye": "goodbye", "bye bye": "goodbye",
  "goodbye": "goodbye", "see you": "goodbye", "see you soon": "goodbye", "good night": "goodbye",
  "au revoir": "goodbye", "a bientot": "goodbye", "a plus": "goodbye", "bonne journee": "goodbye",
  "bonne soiree": "goodbye", "bonne nuit": "goodbye", "ciao": "goodbye", "tchao": "goodbye"
}';
COMMENT ON FUNCTION convo.simple_intent_phrases() IS 'Built-in simple intents of route_model: normalized phrase -> greeting | thanks | yes | no | ok | goodbye';

-- Words that call for a tool, as normalized word start -> family. They match the start of a
-- word, so plurals and conjugations count ("precios", "compraria"); a false alarm only costs
-- the large model. Families are reported in route_model's reason.
CREATE FUNCTION convo.tool_words() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN jsonb '{
  "human": "human", "humano": "human", "humain": "human", "person": "human", "persona": "human",
  "agent": "human", "asesor": "human", "advisor": "human", "conseiller": "human", "operador": "human",
  "operator": "human", "vendedor": "human", "representa": "human", "hablar con": "human",
  "price": "price", "pricing": "price", "cost": "price", "how much": "price", "cheap": "price",
  "expensive": "price", "discount": "price", "offer": "price", "precio": "price", "cuanto": "price",
  "cuanta": "price", "cuesta": "price", "costo": "price", "coste": "price", "valor": "price",
  "barato": "price", "caro": "price", "descuento": "price", "oferta": "price", "promo": "price",
  "rebaja": "price", "prix": "price", "combien": "price", "coute": "price", "tarif": "price",
  "cher": "price", "remise": "price", "solde": "price",
  "cart": "cart", "basket": "cart", "carrito": "cart", "carro": "cart", "cesta": "cart", "panier": "cart",
  "order": "order", "checkout": "order", "track": "order", "refund": "order", "return": "order",
  "pedido": "order", "pedir": "order", "orden": "order", "encargo": "order", "seguimiento": "order",
  "devolucion": "order", "reembolso": "order", "commande": "order", "suivi": "order",
  "rembours": "order", "retour": "order",
  "stock": "stock", "availab": "stock", "sold out": "stock", "do you have": "stock", "disponib": "stock",
  "agotad": "stock", "quedan": "stock", "tienen": "stock", "tienes": "stock", "tenes": "stock",
  "rupture": "stock", "avez vous": "stock", "vous avez": "stock",
  "size": "size", "color": "size", "colour": "size", "talla": "size", "talle": "size", "tamano": "size",
  "medida": "size", "taille": "size", "pointure": "size", "couleur": "size",
  "buy": "buy", "purchase": "buy", "want": "buy", "compr": "buy", "quiero": "buy", "quisiera": "buy",
  "acheter": "buy", "achat": "buy", "achete": "buy", "veux": "buy", "voudrais": "buy",
  "product": "product", "item": "product", "catalog": "product", "model": "product", "article": "product",
  "producto": "product", "articulo": "product", "catalogo": "product", "modelo": "product",
  "produit": "product", "modele": "product", "reference": "product",
  "deliver": "delivery", "shipping": "delivery", "ship": "delivery", "envio": "delivery",
  "enviar": "delivery", "entrega": "delivery", "domicilio": "delivery", "livraison": "delivery",
  "livrer": "delivery", "expedition": "delivery",
  "pay": "payment", "invoice": "payment", "cash": "payment", "card": "payment", "pago": "payment",
  "pagar": "payment", "tarjeta": "payment", "transferencia": "payment", "efectivo": "payment",
  "factura": "payment", "paiement": "payment", "payer": "payment", "carte": "payment", "facture": "payment",
  "hour": "business_info", "open": "business_info", "close": "business_info", "address": "business_info",
  "location": "business_info", "where": "business_info", "horario": "business_info", "hora": "business_info",
  "abren": "business_info", "abierto": "business_info", "cierran": "business_info", "cerrado": "business_info",
  "direccion": "business_info", "ubicacion": "business_info", "donde": "business_info",
  "heure": "business_info", "horaire": "business_info", "ouvert": "business_info", "ferme": "business_info",
  "adresse": "business_info",
  "book": "booking", "appointment": "booking", "reserv": "booking", "cita": "booking", "turno": "booking",
  "agendar": "booking", "rendez vous": "booking"
}';
COMMENT ON FUNCTION convo.tool_words() IS 'Words that make route_model choose the large model: normalized word start -> family (human, price, cart, order, stock, size, buy, product, delivery, payment, business_info, booking)';

-- Which model answers a text, for an account and the profile its conversation follows (the
-- models and simple intents are the profile's; the caller has read them already):
--   {"tier": "cached"|"small"|"large", "model": name or null, "reason": "...", "cached": {...} or null}
-- Reasons: cache_hit:<entry id>, tool_words:<family>, simple_intent:<intent> (emoji, or
-- profile for a profile's own list), no_words (only punctuation, or nothing), default.
-- For the cached tier, model is null (there is nothing to call) and "cached" holds the entry
-- as cached_answer returns it, so that the caller needs no second lookup. build_context calls
-- this with what it read; route_model(conversation_id, text) reads the profile first.
CREATE FUNCTION convo.route_text(account_id uuid, small_model text, large_model text,
                                 simple_intents text[], text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    fn constant text := 'convo.route_text: ';
    hit jsonb;
    norm text;
    stem text;
    phrases jsonb;
    longest int;       -- words in the longest phrase
    candidate text;
    words_of text;     -- the candidate words holds
    words text[];
    n int;
    rest boolean[];
    step int[];
BEGIN
    IF route_text.account_id IS NULL OR route_text.text IS NULL THEN
        RAISE EXCEPTION '%account_id and text are required', fn USING ERRCODE = '22004';
    END IF;

    -- Most accounts have no cached answers: one index probe then spares the lookup. Asked for
    -- the first entry in primary key order: a generic plan of EXISTS may pick a sequential
    -- scan that expects an early match, and reads every other account's entries when the
    -- account has none.
    IF (SELECT c.entry_id FROM convo.response_cache c WHERE c.account_id = route_text.account_id
         ORDER BY c.entry_id LIMIT 1) IS NOT NULL THEN
        hit := convo.response_cache_lookup(route_text.account_id, convo.question_key(route_text.text));
    END IF;
    IF hit IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'cached', 'model', NULL, 'reason', 'cache_hit:' || (hit ->> 'entry_id'),
                                  'cached', hit);
    END IF;

    norm := convo.normalize_text(route_text.text);
    -- The first tool word of the text (leftmost, longest).
    stem := (regexp_match(norm, '\m(' || convo.phrase_alternation(convo.tool_words()) || ')'))[1];
    IF stem IS NOT NULL THEN
        RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model,
                                  'reason', 'tool_words:' || (convo.tool_words() ->> stem), 'cached', NULL);
    END IF;

    IF norm = '' THEN
        -- No letters or digits: a few emoji are a simple intent; punctuation alone, or nothing
        -- (a media message without caption), goes to the large model.
        IF length(route_text.text) <= 32
           AND route_text.text ~ '[\u00A9\u00AE\u203C\u2049\u2122\u2139\u2190-\u21FF\u2300-\u23FF\u24C2\u25A0-\u27BF\u2900-\u297F\u2B00-\u2BFF\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF]'
        THEN
            RETURN jsonb_build_object('tier', 'small', 'model', route_text.small_model, 'reason', 'simple_intent:emoji',
                                      'cached', NULL);
        END IF;
        RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model, 'reason', 'no_words', 'cached', NULL);
    END IF;

    -- Simple intents are short: at most 80 characters and 8 words once normalized.
    IF length(norm) <= 80 AND cardinality(string_to_array(norm, ' ')) <= 8 THEN
        -- A profile's own phrases replace the built-in ones (NULL: the built-in list).
        IF route_text.simple_intents IS NULL THEN
            phrases := convo.simple_intent_phrases();
            longest := 4;
        ELSE
            SELECT coalesce(jsonb_object_agg(p.n, 'profile'), '{}'), coalesce(max(cardinality(string_to_array(p.n, ' '))), 0)
              INTO phrases, longest
              FROM (SELECT DISTINCT convo.normalize_text(s) AS n FROM unnest(route_text.simple_intents) AS s) AS p
             WHERE p.n <> '';
        END IF;
        -- Letters typed three times or more ("holaaa", "siii") count once; so, in a second try,
        -- do doubled ones ("holaa"); laughter ("jajaja", "hehe") is "jaja".
        FOREACH candidate IN ARRAY ARRAY[
                regexp_replace(regexp_replace(norm, '(.)\1\1+', '\1', 'g'), '\m([jh][aeiou])\1+[jh]?\M', 'jaja', 'g'),
                regexp_replace(regexp_replace(norm, '(.)\1+', '\1', 'g'), '\m([jh][aeiou])\1+[jh]?\M', 'jaja', 'g')] LOOP
            CONTINUE WHEN candidate = words_of;   -- no doubled letters: nothing new to try
            words_of := candidate;
            -- Is the text a sequence of phrases? From the end: rest[i] when words i.. are one;
            -- step[i], the words of the longest phrase that starts such a sequence at i.
            words := string_to_array(candidate, ' ');
            n := cardinality(words);
            rest := array_fill(false, ARRAY[n + 1]);
            step := array_fill(0, ARRAY[n + 1]);
            rest[n + 1] := true;
            FOR i IN REVERSE n..1 LOOP
                FOR len IN REVERSE least(longest, n - i + 1)..1 LOOP
                    IF rest[i + len] AND phrases ? array_to_string(words[i:i + len - 1], ' ') THEN
                        rest[i] := true;
                        step[i] := len;
                        EXIT;
                    END IF;
                END LOOP;
            END LOOP;
            IF rest[1] THEN
                RETURN jsonb_build_object('tier', 'small', 'model', route_text.small_model, 'reason',
                    'simple_intent:' || (phrases ->> array_to_string(words[1:step[1]], ' ')), 'cached', NULL);
            END IF;
        END LOOP;
    END IF;

    RETURN jsonb_build_object('tier', 'large', 'model', route_text.large_model, 'reason', 'default', 'cached', NULL);
END
$$;
COMMENT ON FUNCTION convo.route_text(uuid, text, text, text[], text) IS 'Which model answers text for an account and its profile''s models and simple intents: {tier: cached|small|large, model, reason, cached}; a cached answer first, then tool words (large), then short simple intents (small), else large';

-- Which model answers text in this conversation: route_text with the profile the conversation
-- follows (convo.effective_profile).
CREATE FUNCTION convo.route_model(conversation_id uuid, text text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog
AS $$
#variable_conflict use_column
DECLARE
    conv record;
    profile convo.bot_profiles;
BEGIN
    IF conversation_id IS NULL OR route_model.text IS NULL THEN
        RAISE EXCEPTION 'convo.route_model: conversation_id and text are required' USING ERRCODE = '22004';
    END IF;
    -- Row-level security applies: another account's conversation is unknown here.
    SELECT c.account_id, c.bot_profile_id INTO conv
      FROM convo.conversations c WHERE c.conversation_id = route_model.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'convo.route_model: unknown conversation %', conversation_id USING ERRCODE = 'P0002';
    END IF;
    SELECT p.* INTO profile FROM convo.effective_profile(conv.account_id, conv.bot_profile_id) AS p;
    IF NOT FOUND THEN
        PERFORM convo.no_bot_profile(conv.account_id, 'convo.route_model');
    END IF;
    RETURN convo.route_text(conv.account_id, profile.small_model, profile.large_model, profile.simple_intents,
                            route_model.text);
END
$$;
COMMENT ON FUNCTION convo.route_model(uuid, text) IS 'Which model answers text in this conversation: {tier: cached|small|large, model, reason, cached}; a cached answer first, then tool words (large), then short simple intents (small), else large';
