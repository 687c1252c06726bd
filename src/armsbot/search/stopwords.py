"""Words that carry no name and no topic in a question about connections, per bot language.

"who sold spyware to mexico", "qui a vendu des armes au Maroc", "кто продал оружие Марокко": the
question words, the verbs of buying and selling, articles and prepositions neither name an entity
nor narrow the claims (a claim says "supplied", not "sold"), so the query reader skips them. The
lists are kept short and by hand: a word that could be part of a name stays out of them unless it
is also a name's linking word ("Bosnia and Herzegovina" is read whole before "and" is skipped).
"""

from __future__ import annotations

from functools import lru_cache

from armsbot.search.folding import fold

# By the bot's languages (commands/locales); English also serves Discord's other locales.
STOP_WORDS: dict[str, str] = {
    "en": """
        a an the and or of to in on at by for from with without about into onto between among
        who whom whose what which when where why how whether that this these those there here
        is are was were be been being am do does did done doing has have had having can could
        will would shall should may might must any all some every each other others more most
        sold sell sells selling sale sales seller sellers bought buy buys buying buyer buyers
        supplied supply supplies supplying supplier suppliers provided provide provides
        delivered deliver delivers exported export exports exporting imported import imports
        acquired acquire acquires purchased purchase purchases get got gave give given
        use used uses using sent send also ever anyone someone company companies firm firms
        country countries claim claims list show tell me us our we they them their it its he she
        his her not no yes did much many very just only please
    """,
    "es": """
        a al ante bajo con contra de del desde durante en entre hacia hasta para por segun sin
        sobre tras el la los las lo un una unos unas y e o u ni que quien quienes cual cuales
        cuando donde como cuanto cuantos es son fue fueron ha han habia se su sus le les
        vendio vendieron vende venden vender venta ventas compro compraron compra compran
        comprar suministro suministraron exporto exportaron empresa empresas pais paises
        tambien muy mas
    """,
    "fr": """
        a au aux avec chez contre dans de des du en entre par pour sans sous sur vers le la les
        l un une et ou ni que qui quoi quel quelle quels quelles quand ou comment est sont
        etait ont a été ete se sa son ses leur leurs il elle ils elles y
        vendu vendus vendue vendues vend vendent vente ventes achete achetes achat achats
        fourni fournis livre livres exporte exportes entreprise entreprises pays aussi tres plus
    """,
    "de": """
        an auf aus bei durch fur gegen in mit nach ohne uber um von vor zu zum zur der die das
        den dem des ein eine einen einem einer und oder wer wen wem wessen was welche welcher
        welches wann wo wie hat haben hatte hatten ist sind war waren wurde wurden sich sein
        seine ihr ihre verkauft verkaufte verkauften verkauf verkaufe gekauft kaufte kauften
        kauf geliefert lieferte lieferten exportiert firma firmen unternehmen land lander auch
        sehr mehr
    """,
    "ru": """
        в во на к ко с со из от до по о об обо за для при про у и или а но что кто кому чей
        какой какая какие какое когда где как это эти тот та те был была были было есть
        продал продала продали продает продают продажа продажи купил купила купили покупка
        поставил поставила поставили поставки экспорт компания компании фирма фирмы страна
        страны также очень
    """,
    "he": """
        את של על עם אל מן מ ב ל ו ה כ או גם מי מה איזה אילו מתי איפה איך זה זו אלה הוא היא הם
        הן היה הייתה היו יש מכר מכרה מכרו מוכר מוכרת מוכרים מכירה מכירות קנה קנתה קנו רכש רכשה
        רכשו סיפק סיפקה סיפקו יצוא חברה חברות מדינה מדינות
    """,
    "ar": """
        في من إلى الى على عن مع ل ب و أو او ثم ما ماذا من الذي التي الذين متى أين اين كيف هل هذا
        هذه ذلك تلك هو هي هم كان كانت كانوا باع باعت باعوا يبيع تبيع بيع مبيعات اشترى اشترت
        اشتروا شراء زود زودت زودوا تصدير شركة شركات دولة دول أيضا ايضا
    """,
}


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Every stop word of every language, folded as queries are."""
    return frozenset(fold(word) for words in STOP_WORDS.values() for word in words.split())


def is_stop_word(folded_word: str) -> bool:
    """Whether a folded word of a query carries neither a name nor a topic."""
    return folded_word in stop_words()
