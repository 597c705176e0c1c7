// Writes corpus.jsonl: the texts the token estimator is checked against.
//
//   node tests/tokenizer/make_corpus.mjs > tests/tokenizer/corpus.jsonl
//
// Every fragment below was written for this corpus. The output is committed, so the accuracy
// check does not depend on this script; it is kept to regenerate or extend the corpus. The
// random choices come from a seeded generator: the same script always writes the same file.

// ---- deterministic choices ------------------------------------------------------------------

function mulberry32(seed) {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const random = mulberry32(20251123);
const pick = (list) => list[Math.floor(random() * list.length)];
const digits = (n) => Array.from({ length: n }, () => Math.floor(random() * 10)).join("");
const upper = (n) =>
    Array.from({ length: n }, () => "ABCDEFGHJKLMNPQRSTUVWXYZ"[Math.floor(random() * 24)]).join("");
const alnum = (n) =>
    Array.from({ length: n }, () =>
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 62)],
    ).join("");

// ---- slot values ----------------------------------------------------------------------------

const slots = {
    name: ["Ana", "Lucas", "Camille", "Mateo", "Sofía", "Hugo", "Valentina", "Chloé", "Diego",
        "Emma", "Thiago", "Léa", "Jorge", "Inès", "Martina", "Noah", "Olivia", "Benoît"],
    product_en: ["running jacket", "leather backpack", "wireless earbuds", "linen shirt",
        "coffee grinder", "yoga mat", "winter jacket", "phone case", "desk lamp", "water bottle"],
    product_fr: ["une paire de baskets", "un sac à dos en cuir", "un casque sans fil",
        "une chemise en lin", "un moulin à café", "un tapis de yoga", "une doudoune",
        "une coque de téléphone", "une lampe de bureau", "une gourde isotherme"],
    product_es: ["la campera de running", "la mochila de cuero", "el auricular inalámbrico",
        "la camisa de lino", "el molinillo de café", "la esterilla de yoga",
        "la chaqueta de invierno", "la funda para el móvil", "la lámpara de escritorio",
        "la botella térmica"],
    sku: () => pick([
        () => `NK-AIR-${pick(["38", "39", "40", "41", "42", "43", "44"])}-${pick(["BLK", "WHT", "RED", "NVY"])}`,
        () => `${upper(3)}-${digits(4)}`,
        () => `${upper(2)}${digits(3)}-${pick(["S", "M", "L", "XL"])}`,
        () => `REF-${digits(6)}`,
        () => `${upper(4)}/${digits(2)}/${pick(["A", "B", "C"])}`,
    ])(),
    order: () => pick([
        () => `#${digits(5)}`,
        () => `${digits(6)}`,
        () => `ORD-${digits(4)}-${digits(4)}`,
        () => `A${digits(7)}`,
        () => `#CMD-${digits(5)}`,
        () => `PED${digits(6)}`,
    ])(),
    tracking: () => pick([
        () => `1Z${upper(2)}${digits(3)}${upper(2)}${digits(8)}`,
        () => `${upper(2)}${digits(9)}FR`,
        () => `${digits(12)}`,
        () => `LP${digits(14)}`,
    ])(),
    price_usd: () => `$${Math.floor(random() * 300) + 5}.${pick(["00", "99", "49", "50", "95"])}`,
    price_eur: () => `${Math.floor(random() * 300) + 5},${pick(["00", "99", "49", "50", "90"])} €`,
    price_eur_en: () => `€${Math.floor(random() * 300) + 5}.${pick(["00", "99", "50"])}`,
    phone: () => pick([
        () => `+33 6 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
        () => `+34 6${digits(2)} ${digits(3)} ${digits(3)}`,
        () => `+1 (555) 01${digits(1)}-${digits(4)}`,
        () => `+54 9 11 ${digits(4)}-${digits(4)}`,
        () => `06${digits(8)}`,
        () => `+52 55 ${digits(4)} ${digits(4)}`,
    ])(),
    date_en: ["Monday", "March 3rd", "next Friday", "June 14", "tomorrow", "the 21st",
        "Thursday, May 8", "12/09/2025"],
    date_fr: ["mardi", "le 3 mars", "vendredi prochain", "le 14 juin", "demain matin",
        "le 21 octobre", "le 12/09/2025", "jeudi 8 mai"],
    date_es: ["el lunes", "el 3 de marzo", "el viernes que viene", "el 14 de junio",
        "mañana por la mañana", "el 21 de octubre", "el 12/09/2025", "el jueves 8 de mayo"],
    time_en: ["9:30 am", "10 am", "2 pm", "4:30 pm", "6:45 pm", "11:15"],
    time_fr: ["9h30", "10h", "14h", "16h30", "18h45", "11h15"],
    time_es: ["9:30", "10:00", "14:00", "16:30", "18:45", "11:15"],
    city_en: ["Chicago", "Austin", "Toronto", "Manchester", "Dublin", "Seattle"],
    city_fr: ["Lyon", "Marseille", "Bordeaux", "Lille", "Nantes", "Montréal", "Genève"],
    city_es: ["Madrid", "Sevilla", "Buenos Aires", "Córdoba", "Valencia", "Guadalajara", "Bogotá"],
    color_en: ["black", "navy blue", "olive green", "white", "burgundy", "sand beige"],
    color_fr: ["noir", "bleu marine", "vert olive", "blanc", "bordeaux", "beige sable"],
    color_es: ["negro", "azul marino", "verde oliva", "blanco", "bordó", "beige arena"],
    size: ["S", "M", "L", "XL", "38", "42", "44.5", "10 US", "EU 41"],
    qty: ["2", "3", "4", "5", "10", "12"],
    people: ["2", "3", "4", "6", "8"],
    email: () => `${pick(["ana.ruiz", "lucas88", "camille.b", "contact", "m.gomez", "hugo_dupont"])}@${pick(["gmail.com", "hotmail.fr", "yahoo.es", "outlook.com", "example.org"])}`,
    code: () => digits(6),
    company: ["Boulangerie Martin", "Ferretería López", "Blue Harbor Studio", "Café Lumière",
        "Distribuciones Norte SL", "Atelier Rivage SARL"],
};

function fill(template) {
    return template.replace(/\{(\w+)\}/g, (_, slot) => {
        const v = slots[slot];
        if (v === undefined) throw new Error(`unknown slot ${slot}`);
        return typeof v === "function" ? v() : pick(v);
    });
}

// ---- fragments ------------------------------------------------------------------------------

// Short chat lines, as customers type them.
const short = [
    "ok", "Ok", "OK", "ok!", "okay", "oki", "okk", "gracias!", "Gracias", "muchas gracias 🙏",
    "merci", "Merci beaucoup !", "merci 🙂", "thanks", "Thanks!", "thank you so much", "thx",
    "👍", "👍🏼", "🙏", "❤️", "😂😂😂", "🔥🔥", "✅", "hola", "Hola!", "holaa", "buenas",
    "Buenas tardes", "bonjour", "Bonsoir", "salut", "hi", "Hello?", "hey there", "yes",
    "Yes please", "no", "No gracias", "non merci", "oui", "si", "Sí", "dale", "vale", "listo",
    "d'accord", "parfait", "perfecto!", "great", "cool", "np", "?", "??", "...", "jaja", "jajaja",
    "mdr", "lol", "ya", "todavía no", "pas encore", "not yet", "1", "2", "STOP", "stop", "menu",
    "Menú", "agent", "humano", "un humain svp", "human please", "où est ma commande ?",
    "¿dónde está mi pedido?", "where is my order?", "ça marche", "c'est bon", "de nada",
    "you're welcome", "de rien", "bye", "chao", "ciao", "à plus", "👋", "🙂👍", "ok 👌", "👀",
    "Allô ?", "y?", "Sii", "dale gracias", "ok merci", "Vale, perfecto", "no worries",
    "super merci !", "genial!!", "Hello", "Bonjour 👋", "Buenos días", "reçu", "recibido ✅",
    "got it", "👍👍", "😊", "🤔", "😅 oops", "Ah ok", "Mmm", "jsp", "xq?", "tmb", "pq pas",
];

const english = [
    "Hi, I ordered the {product_en} last week and it still hasn't arrived. My order number is {order}.",
    "Your order {order} has shipped and should arrive by {date_en}.",
    "Can I change the delivery address? I'm moving to {city_en} next month.",
    "The {product_en} I received is the wrong size, I need a {size} instead.",
    "We're sorry for the delay! Your refund of {price_usd} will be processed within 5-7 business days.",
    "Do you have the {product_en} in {color_en}?",
    "Our store is open Monday to Saturday, 9am to 7pm, and closed on public holidays.",
    "Please send us a photo of the damaged item together with your order number.",
    "I was charged twice for order {order}, can you check what happened?",
    "Sure! The {product_en} costs {price_usd} and shipping is free on orders over $50.",
    "Your appointment is confirmed for {date_en} at {time_en}. Reply CANCEL if you can't make it.",
    "Can I pay with PayPal or only by card?",
    "Tracking number: {tracking}. You can follow the parcel on the carrier's website.",
    "I'd like to return the {product_en}, it doesn't fit. How does the return process work?",
    "Good news: the {product_en} is back in stock in {color_en}, {qty} left in size {size}.",
    "Could you send the invoice to {email}? We need it for our accounting.",
    "Thanks for your patience, {name}. A colleague from our support team will reply shortly.",
    "Is there a discount if I buy {qty} of them?",
    "We don't deliver on Sundays, but you can pick up your order at our {city_en} store.",
    "My verification code is not working, I tried {code} three times.",
    "Hey, quick question: does the {product_en} come with a warranty?",
    "Yes, every product has a 2-year warranty. Keep your receipt just in case.",
    "The courier left a note saying nobody was home, but I was there all day!",
    "Your subscription renews on {date_en}. You will be charged {price_usd}.",
    "Sorry, we couldn't find an order under that phone number. Could you double-check it?",
    "What's the difference between the standard and the premium version?",
    "I'll be at the shop around {time_en}, can you keep it for me until then?",
    "The payment failed with error code 51. I've tried two different cards.",
    "Please rate your experience from 1 to 5.",
    "Unfortunately this item is final sale and can't be exchanged.",
    "Could someone call me back at {phone}? It's about an urgent delivery.",
    "We've updated your address to 1247 Maple Avenue, Apt 3B, {city_en}.",
    "Is it possible to add a gift message? It's for my mom's birthday.",
    "Hello {name}, your table for {people} is booked for {date_en} at {time_en}. See you soon!",
];

const french = [
    "Bonjour, j'ai commandé {product_fr} {date_fr} et je n'ai toujours rien reçu.",
    "Votre commande {order} a été expédiée, vous devriez la recevoir {date_fr}.",
    "Est-ce que je peux modifier l'adresse de livraison ? J'ai déménagé à {city_fr}.",
    "Le colis est arrivé abîmé, qu'est-ce que je dois faire ?",
    "Nous sommes désolés pour ce retard. Le remboursement de {price_eur} sera effectué sous 5 jours ouvrés.",
    "Vous l'avez en taille {size} ? Et en {color_fr} ?",
    "Il me faudrait une facture au nom de la société {company}, s'il vous plaît.",
    "Le magasin de {city_fr} est ouvert du lundi au samedi de 10h à 19h.",
    "Je voudrais retourner l'article, il est beaucoup trop petit.",
    "Bien sûr ! Comptez {price_eur} pour {product_fr}, livraison offerte dès 49 €.",
    "Votre rendez-vous est confirmé pour {date_fr} à {time_fr}. À bientôt !",
    "Est-ce qu'on peut payer en plusieurs fois sans frais ?",
    "Voici votre numéro de suivi : {tracking}. Le transporteur vous préviendra avant la livraison.",
    "Bonjour {name}, merci pour votre message ! Un conseiller vous répond dans quelques minutes.",
    "J'ai été débité deux fois pour la commande {order}, pouvez-vous vérifier ?",
    "Le livreur est passé mais je n'étais pas là. Comment récupérer mon colis ?",
    "Vous pouvez le retirer au point relais pendant 10 jours, avec une pièce d'identité.",
    "C'est possible de changer la couleur ? Je préfère le {color_fr} finalement.",
    "Pouvez-vous me rappeler au {phone} ? C'est assez urgent.",
    "Désolé, ce produit n'est plus disponible. Voulez-vous que je vous prévienne dès son retour ?",
    "Le code promo BIENVENUE10 ne fonctionne pas sur mon panier.",
    "Il reste {qty} exemplaires en stock, je vous en mets un de côté ?",
    "J'aimerais savoir si vous livrez en Belgique et en Suisse.",
    "Oui, nous livrons partout en Europe. Comptez 3 à 5 jours pour la Belgique.",
    "Ma carte a été refusée alors qu'il y a de l'argent sur le compte, je ne comprends pas.",
    "Merci d'avoir choisi {company} ! Donnez-nous votre avis en une minute.",
    "Quels sont vos horaires pendant les fêtes de fin d'année ?",
    "La garantie couvre les défauts de fabrication pendant deux ans à compter de l'achat.",
    "Je vous envoie une photo de l'étiquette, c'est écrit {sku} dessus.",
    "Votre réservation pour {people} personnes est bien notée pour {date_fr} à {time_fr}.",
    "Est-ce que l'emballage cadeau est possible ? C'est pour l'anniversaire de ma fille.",
    "Nous avons bien reçu votre retour, le remboursement apparaîtra sur votre relevé sous 48 h.",
    "Pourquoi ma commande est-elle encore « en préparation » depuis une semaine ?",
];

const spanish = [
    "Hola, hice un pedido {date_es} y todavía no me llegó.",
    "¿Tienen {product_es} en color {color_es}?",
    "Tu pedido {order} ya salió de nuestro almacén 🚚",
    "¿Cuánto cuesta el envío a {city_es}?",
    "Lamentamos las molestias. Te devolvemos {price_eur} en los próximos días hábiles.",
    "Quiero cambiar la talla, me queda chico. Necesito una {size}.",
    "¿Aceptan pagos con tarjeta o solo transferencia?",
    "Buenas tardes, ¿a qué hora cierran hoy?",
    "Cerramos a las 20:00 de lunes a viernes y a las 14:00 los sábados.",
    "Claro que sí, {name}: {product_es} cuesta {price_eur} y el envío es gratis.",
    "Tu cita quedó confirmada para {date_es} a las {time_es}. ¡Te esperamos!",
    "Me cobraron dos veces el pedido {order}, ¿me pueden ayudar?",
    "El número de seguimiento es {tracking}, lo podés consultar en la web del correo.",
    "Perdón por la demora, estamos con mucho volumen de mensajes.",
    "¿Puedo pasar a retirarlo por el local? Vivo cerca de {city_es}.",
    "Sí, podés retirarlo en el local de lunes a sábado con tu DNI y el número de pedido.",
    "El paquete llegó roto 😢 les mando fotos.",
    "¿Hacen factura A? Necesito que salga a nombre de {company}.",
    "¿Me podrían llamar al {phone}? Es por un tema de garantía.",
    "Quedan {qty} unidades en stock, ¿te reservo una?",
    "No me llegó el código de verificación, ¿me lo reenvían?",
    "Tu código es {code}. No lo compartas con nadie.",
    "¿El precio incluye IVA?",
    "Sí, todos nuestros precios incluyen IVA. Para empresas emitimos factura con el desglose.",
    "Hola {name}! Gracias por escribirnos. ¿En qué te podemos ayudar?",
    "Se me pasó la fecha de devolución por dos días, ¿igual puedo devolverlo?",
    "Queremos reservar una mesa para {people} personas {date_es} a las {time_es}.",
    "El repartidor dice que no había nadie, pero yo estuve en casa toda la tarde.",
    "Te mandé la transferencia hace una hora, ¿ya la recibieron?",
    "¿Tienen envíos internacionales? Estoy en Montevideo.",
    "La garantía cubre defectos de fábrica durante un año desde la compra.",
    "Buen día, quisiera saber si {product_es} viene con cargador.",
    "¡Gracias por tu compra! Si tenés alguna duda, escribinos por acá.",
];

const emoji = [
    "Muchas gracias!!! 😍😍🙏", "🎉🎉 Your order is on its way 🚚💨", "jajaja 😂😂 ok dale",
    "❤️❤️❤️", "👍🏻 merci", "Bonne journée ☀️😊", "ya llegó 📦✨ todo perfecto 👌",
    "🙄 still waiting...", "😡😡 nobody answers me", "🇫🇷 ou 🇪🇸 ?", "👨‍👩‍👧 family pack?",
    "Se ve genial 😍🔥💯", "trop beau 😭😭💕", "🙏🏽🙏🏽 gracias de verdad", "ok 👍 see you at 5",
    "📍 I'm at the entrance", "c'est noté ✍️", "⭐⭐⭐⭐⭐ top service!", "😬 es muy caro",
    "🤣🤣🤣🤣", "💳 or 💵?", "🛍️🛍️ I'll take both", "Feliz Navidad 🎄🎁 a todo el equipo",
    "Joyeux anniversaire 🎂🥳", "gracias 🥹", "⚠️ mi pedido dice entregado pero no lo tengo",
    "👌👌", "🙃", "done ✔️", "🔙 para volver al menú", "1️⃣ Pedidos 2️⃣ Envíos 3️⃣ Hablar con alguien",
    "✨ Nouveauté ✨ la collection d'été est arrivée 🌞👗", "🐶 is the bed ok for a big dog?",
    "🥲 j'ai raté le livreur", "👏👏👏 genial", "😍", "🤝 deal", "💬 écris-moi ici",
    "⏰ last day of the sale!", "✅ Pago recibido · 🧾 Factura enviada",
];

const numbers = [
    "My number is {phone}", "{phone}", "Total: {price_eur}", "{price_usd}", "Order {order}",
    "SKU {sku}", "{sku}", "Ref: {sku}", "Code postal 75011", "CP 28013",
    "IBAN FR76 3000 6000 0112 3456 7890 189", "Tracking {tracking}", "Invoice INV-2025-0042",
    "12/03/2025 14:30", "2025-11-23T10:00:00Z", "3 x 19.99 = 59.97", "Quantité : 2", "44.5",
    "0,5 kg", "1.75m", "OTP: {code}", "wamid.HBgLMTU1NTAxMDAyMDAVAgASGBQzQTk0",
    "5f0c2a1e-7b3d-4c8e-9a61-2f4b7d9e0c13", "{email}", "https://shop.example.com/orders/{code}",
    "{qty} x {sku} @ {price_usd}", "Pedido {order} · {qty} artículos · {price_eur}",
    "Commande {order} : {qty} article(s), total {price_eur} TTC", "1 234 567", "1,234,567.89",
    "99.9%", "-15 %", "x2", "2x1 en toda la tienda", "Lun-Vie 9:00-18:00", "24/7",
    "CUIT 30-71234567-8", "SIRET 123 456 789 00012", "NIF B12345678", "RFC GOMA850101AB1",
    "Tel. {phone} / {phone}", "order#{code}", "{tracking}", "{order} {order} {order}",
];

const mixed = [
    "Hola, sorry my English is bad, ¿puedo pagar en efectivo?", "Merci! Lo recibí hoy 😊",
    "ok merci, see you tomorrow", "Bonjour, is the shop open today? Gracias",
    "Yes, on parle français aussi 🙂", "Perfecto, thank you!", "Je suis à Madrid, hacen envíos?",
    "The package says {tracking}, c'est normal ?", "Gracias, merci, thanks 😂",
    "Order {order} – ¿ya salió?", "¿Hablan inglés? I need help with my order",
    "Bonjour/Hola/Hello, welcome to {company} 👋", "ok dale, je passe demain",
    "Necesito la factura ASAP please", "C'est combien en dollars? How much in USD?",
    "my mom speaks only Spanish, ¿le pueden escribir en español?",
    "Salut! Quick question sobre el envío", "No problem, à demain alors!",
    "Sorry, je me suis trompé de numéro", "Thanks! Que tengas buen día ☀️",
];

// Longer texts: system-prompt-like instructions for an assistant.
const prompts = [
    `You are the customer-service assistant of {company}, a small shop that sells shoes and accessories online and in two physical stores. Answer in the customer's language (English, French or Spanish). Keep replies short: two or three sentences, no more than one emoji. Never invent an order status: when the customer asks about an order, call the tool get_order with the order number and only report what it returns. If the customer is angry, apologise once, then focus on the solution. Hand the conversation to a human agent when the customer asks for one, when a refund above $200 is involved, or when you are not sure of the answer.`,
    `## Role
You help customers of {company} over WhatsApp.

## Rules
- Be friendly and concise.
- Prices include VAT. Shipping is free above €49.
- Returns are accepted within 30 days, unused and with the original label.
- Do not share internal notes, supplier names or margins.
- If a message is not about the shop, politely steer back.

## Tools
1. lookup_order(order_id) -> status, items, tracking
2. create_ticket(summary, priority) -> ticket id
3. handoff(reason) -> transfers to a human`,
    `Tu es l'assistant de la boutique {company}. Réponds toujours en français, en vouvoyant le client, avec des phrases courtes. Tu peux consulter les commandes avec l'outil chercher_commande et proposer un échange ou un remboursement selon la politique suivante : retour gratuit sous 30 jours, article non porté, étiquette présente. Ne promets jamais de date de livraison précise ; donne la fourchette indiquée par le transporteur. Si le client demande à parler à quelqu'un, transfère la conversation sans insister.`,
    `Eres el asistente virtual de {company}. Respondé siempre en español rioplatense, con tono cercano pero profesional. Reglas: 1) no inventes precios ni stock, consultá la herramienta catalogo_buscar; 2) los envíos a todo el país tardan de 3 a 7 días hábiles; 3) para cambios y devoluciones hay 30 días desde la entrega; 4) si el cliente está enojado, pedí disculpas una sola vez y ofrecé una solución concreta; 5) si no sabés la respuesta, derivá a un humano con el motivo.`,
    `Context for this conversation:
customer_name: {name}
language: fr
last_order: {order} (shipped {date_fr}, tracking {tracking})
open_tickets: 0
vip: false
notes: "prefers to be contacted after 6 pm"

Summarise the customer's request in one line before answering. Use the tracking number above when the customer asks where the parcel is.`,
    `The following messages are the recent history between the shop and the customer, oldest first. Messages marked [agent] were written by a human colleague and must be treated as authoritative, even if they contradict the catalogue. Messages marked [bot] were written by you earlier. Do not repeat information the customer already received in the last 24 hours; refer to it briefly instead ("as mentioned earlier"). When the window to reply freely is closed, do not answer: the system will send an approved template instead.`,
    `Instructions de style :
- Une idée par message.
- Pas de jargon technique, pas d'abréviations.
- Utilise *le gras* pour les numéros de commande et les montants.
- Termine par une question seulement si tu as besoin d'une information.

Exemple de bonne réponse :
« Votre commande *{order}* est partie ce matin 📦 Vous la recevrez entre mardi et jeudi. »`,
    `Política de privacidad para el asistente: nunca pidas la contraseña, el número completo de la tarjeta ni el código de seguridad. Si el cliente los envía por error, respondé que no los necesitamos y recomendale borrar el mensaje. Podés pedir el número de pedido, el correo de la compra o los últimos cuatro dígitos de la tarjeta para identificar la compra. Los datos personales se usan solo para gestionar el pedido.`,
];

// A few customers write in other languages: other scripts are costed by the letter.
const otherLanguages = [
    ["ru", "Здравствуйте! Где мой заказ? Я жду уже неделю."],
    ["ru", "Спасибо, всё получил, упаковка отличная."],
    ["ru", "Можно оплатить картой при получении?"],
    ["el", "Καλησπέρα, πότε θα φτάσει η παραγγελία μου;"],
    ["el", "Ευχαριστώ πολύ για τη βοήθεια!"],
    ["ar", "مرحبا، أين طلبي؟ لم يصل بعد."],
    ["ar", "شكرا جزيلا على المساعدة"],
    ["ar", "هل يمكن الدفع عند الاستلام؟"],
    ["he", "שלום, מתי ההזמנה שלי תגיע?"],
    ["hi", "नमस्ते, मेरा ऑर्डर कब तक आएगा?"],
    ["hi", "धन्यवाद, मुझे सामान मिल गया।"],
    ["zh", "你好，我的订单什么时候发货？"],
    ["zh", "谢谢，我已经收到了，质量很好。"],
    ["ja", "こんにちは、注文した商品はいつ届きますか？"],
    ["ja", "ありがとうございます。無事に届きました。"],
    ["ko", "안녕하세요, 제 주문은 언제 도착하나요?"],
    ["ko", "감사합니다. 잘 받았어요!"],
    ["th", "สวัสดีครับ สินค้าจะมาถึงเมื่อไหร่ครับ"],
    ["pt", "Olá, o meu pedido ainda não chegou. Podem verificar?"],
    ["pt", "Obrigada! Chegou tudo certinho 😊"],
    ["de", "Hallo, wann wird meine Bestellung geliefert? Die Sendungsverfolgung zeigt nichts an."],
    ["de", "Vielen Dank, alles angekommen!"],
    ["it", "Buongiorno, vorrei cambiare l'indirizzo di consegna."],
    ["it", "Grazie mille, gentilissimi!"],
];

// Sentences that are joined into multi-sentence messages and agent replies.
const paragraphSources = [english, french, spanish];

// Written after the estimator's constants were fitted on everything above, and checked then
// as unseen text: kept as part of the corpus since.
const later = [
    ["short", "ok gracias"],
    ["short", "Oui merci !"],
    ["short", "sure"],
    ["short", "Perfect 👌"],
    ["short", "vale 👍"],
    ["short", "buen día"],
    ["short", "merci bcp"],
    ["short", "?!"],
    ["short", "😂"],
    ["short", "👍🙏"],
    ["short", "🎉"],
    ["short", "ah d'accord"],
    ["short", "no entiendo"],
    ["short", "Listo!"],
    ["short", "cheers"],
    ["short", "à demain"],
    ["short", "okok"],
    ["short", "Sí, claro"],
    ["short", "nope"],
    ["short", "Génial 😍"],
    ["short", "hmm"],
    ["short", "bueno"],
    ["short", "Top !"],
    ["short", "entendido"],
    ["short", "Thank u"],
    ["short", "svp"],
    ["short", "porfa"],
    ["short", "plz"],
    ["short", "bien reçu 👌"],
    ["short", "¿Y ahora?"],
    ["en", "Hi there, I placed an order yesterday but forgot to add the charger. Can you add it?"],
    ["en", "The tracking page hasn't updated since Tuesday, is my parcel lost?"],
    ["en", "We can offer you a 15% discount code for the inconvenience: SORRY15."],
    ["en", "Could you tell me if the blue hoodie runs small? I'm usually a medium."],
    ["en", "Your return label has been emailed to you. Drop the parcel at any post office within 14 days."],
    ["en", "I need to cancel my subscription before the next billing date, please."],
    ["en", "Our team is available from 8am to 8pm, Monday through Friday."],
    ["en", "The item arrived but the box was open and one cup is missing."],
    ["en", "Thanks so much for the quick reply, you guys are amazing!"],
    ["en", "Is the 256GB version still available in silver?"],
    ["fr", "Bonsoir, je n'arrive pas à me connecter à mon compte client depuis ce matin."],
    ["fr", "Pouvez-vous m'envoyer le lien pour suivre mon colis ?"],
    ["fr", "Nous vous proposons un avoir de 20 € valable six mois sur tout le site."],
    ["fr", "Le pantalon taille grand, je vais prendre un 38 au lieu du 40."],
    ["fr", "Votre demande a bien été transmise au service après-vente."],
    ["fr", "Il manque une pièce dans le kit de montage, la vis numéro 4."],
    ["fr", "Je souhaiterais annuler ma commande passée hier soir, est-ce encore possible ?"],
    ["fr", "Merci pour votre patience, votre dossier est en cours de traitement."],
    ["fr", "Est-ce que vous avez un magasin à Toulouse ou à Nice ?"],
    ["fr", "Livraison express disponible : commandez avant 14h pour une réception demain."],
    ["es", "Buenas noches, no puedo entrar a mi cuenta desde ayer."],
    ["es", "¿Me pasás el link para seguir el envío?"],
    ["es", "Te ofrecemos un cupón de 10% de descuento para tu próxima compra."],
    ["es", "El pantalón me quedó grande, ¿lo puedo cambiar por uno más chico?"],
    ["es", "Tu solicitud fue enviada al equipo de postventa, te contactan en 48 horas."],
    ["es", "Falta una pieza en la caja, el tornillo número 4."],
    ["es", "Quisiera cancelar el pedido que hice anoche, ¿todavía se puede?"],
    ["es", "Gracias por la paciencia, tu caso está siendo revisado."],
    ["es", "¿Tienen sucursal en Rosario o en Mendoza?"],
    ["es", "Envío express disponible: comprá antes de las 14 h y lo recibís mañana."],
    ["emoji", "🙏🙏🙏 mil gracias"],
    ["emoji", "Trop hâte 😍😍"],
    ["emoji", "ya está 👌✨"],
    ["emoji", "😤 third time I ask"],
    ["emoji", "🎁🎁 for my sister"],
    ["emoji", "✅ Commande confirmée 📦"],
    ["emoji", "💯💯"],
    ["emoji", "❓❓"],
    ["emoji", "👀 any news?"],
    ["emoji", "🤷‍♀️ no sé"],
    ["number", "+33 7 88 12 45 90"],
    ["number", "Order #77231-B"],
    ["number", "SKU AD-RUN-40-WHT"],
    ["number", "Total 89,90 € TTC"],
    ["number", "$12.50 x 3"],
    ["number", "2024-03-15 09:12"],
    ["number", "Ref. 9981-AZ"],
    ["number", "CP 13008 Marseille"],
    ["number", "Code: 774210"],
    ["number", "Pedido 44-1029-88"],
    ["mixed", "Hola! Do you ship to Chile?"],
    ["mixed", "Merci, muy amable 😊"],
    ["mixed", "ok, à tout à l'heure"],
    ["mixed", "Perfect, gracias por todo"],
    ["mixed", "Sorry pero no entiendo"],
    ["en-para", "Hi! Thanks for reaching out. I've checked your order and it left our warehouse this morning. You should receive a text from the courier with a delivery slot. If it doesn't arrive by Friday, just reply here and we'll sort it out."],
    ["fr-para", "Bonjour ! Merci de nous avoir contactés. J'ai vérifié votre commande : elle a quitté notre entrepôt ce matin. Le transporteur vous enverra un SMS avec un créneau de livraison. Si rien n'arrive d'ici vendredi, répondez simplement à ce message."],
    ["es-para", "¡Hola! Gracias por escribirnos. Revisé tu pedido y salió de nuestro depósito esta mañana. El correo te va a mandar un SMS con el horario de entrega. Si no llega antes del viernes, respondé este mensaje y lo resolvemos."],
    ["prompt", "You are a helpful assistant for a bakery. Answer questions about opening hours, custom cakes and allergens. Never confirm a custom order yourself: collect the date, the number of guests and the flavour, then tell the customer a baker will confirm within a day. Allergens: all products may contain traces of nuts, eggs, milk and gluten."],
];

// ---- assembly -------------------------------------------------------------------------------

const items = [];
const seen = new Set();
const add = (kind, text) => {
    if (seen.has(text)) return false;
    seen.add(text);
    items.push({ id: `${kind}-${String(items.length + 1).padStart(3, "0")}`, kind, text });
    return true;
};

for (const s of short) add("short", s);
for (const t of english) add("en", fill(t));
for (const t of french) add("fr", fill(t));
for (const t of spanish) add("es", fill(t));
for (const t of emoji) add("emoji", fill(t));
for (const t of numbers) add("number", fill(t));
for (const t of mixed) add("mixed", fill(t));
for (const t of prompts) add("prompt", fill(t));

// Second pass over the sentence templates with other slot values, as lone messages.
for (const list of paragraphSources) {
    const kind = list === english ? "en" : list === french ? "fr" : "es";
    for (let added = 0; added < 10; ) if (add(kind, fill(pick(list)))) added++;
}

// Paragraphs: 3 to 6 sentences of one language, joined by spaces or line breaks.
for (let i = 0; i < 45; i++) {
    const list = paragraphSources[i % 3];
    const n = 3 + Math.floor(random() * 4);
    const sep = pick([" ", " ", "\n", "\n\n"]);
    const parts = Array.from({ length: n }, () => fill(pick(list)));
    add(list === english ? "en-para" : list === french ? "fr-para" : "es-para", parts.join(sep));
}

// Chat transcripts: alternating short lines, as a context assembler would join them.
for (let i = 0; i < 15; i++) {
    const lines = [];
    const n = 4 + Math.floor(random() * 6);
    for (let j = 0; j < n; j++) {
        const who = j % 2 === 0 ? "customer" : "assistant";
        const src = pick([short, emoji, mixed, paragraphSources[i % 3]]);
        lines.push(`${who}: ${fill(pick(src))}`);
    }
    add("transcript", lines.join("\n"));
}

for (const [language, text] of otherLanguages) add(`other-${language}`, text);
for (const [kind, text] of later) add(kind, text);

for (const item of items) process.stdout.write(JSON.stringify(item) + "\n");
