"""The reply box's emoji picker: a short, vendored list of common emoji, grouped (no CDN, no build step).

Written by hand for this project from the Unicode emoji set (emoji are characters, not anyone's artwork: the
browser's font draws them). The group names are translated; an emoji needs no words (screen readers name it).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# (key, label, emoji separated by spaces). Order: what agents answer with most often first.
GROUPS = (
    ("smileys", _("Smileys"),
     "😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😋 😜 🤪 😎 🤩 🥳 😏 😒 😞 😔 😟 😕 🙁 "
     "😣 😫 😩 🥺 😢 😭 😤 😠 😡 🤯 😳 😱 😨 😰 🤗 🤔 🤭 🤫 😶 😐 😑 😬 🙄 😯 😴 🤤 😵 🤐 🤢 🤧 😷 🤒"),
    ("gestures", _("Gestures"),
     "👍 👎 👌 ✌️ 🤞 🤟 🤘 🤙 👈 👉 👆 👇 ☝️ ✋ 🖐️ 🖖 👋 🤝 🙏 👏 🙌 💪 ✍️ 🫶"),
    ("hearts", _("Hearts"),
     "❤️ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣️ 💕 💞 💓 💗 💖 💘 💝"),
    ("celebration", _("Celebration"),
     "🎉 🎊 🎁 🎂 🎈 ⭐ 🌟 ✨ 🔥 💯 🏆 🥇 🎯 🎶"),
    ("objects", _("Objects and symbols"),
     "✅ ❌ ⚠️ ❓ ❗ 💡 📌 📎 📅 ⏰ ⌛ 📦 🚚 🛒 💳 💰 🧾 📞 📱 💻 📧 📝 🔒 🔑 🔔 ➡️ ⬅️ 🔁"),
    ("nature", _("Food and nature"),
     "☀️ 🌧️ ⛄ 🌈 🌸 🌹 🌻 🍀 🍕 🍔 🍟 🌮 🍰 ☕ 🍺 🍷"),
    ("places", _("Travel and places"),
     "🚗 🚕 🚌 ✈️ 🏠 🏢 🏥 🏦 🏪 🗺️ 📍 🕒"),
)


def emoji_groups() -> list[dict[str, object]]:
    return [{"key": key, "label": label, "emoji": chars.split()} for key, label, chars in GROUPS]
