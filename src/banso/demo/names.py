"""Japanese company and person names for the demo world, built from parts.

Every part is a triple (written form, katakana reading, romaji). Company names combine an
optional modifier, a core and a line of business, so ``MAX_COMPANIES`` distinct names exist
whose names *without* the legal form are distinct too (identity resolution strips 株式会社).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

Part = tuple[str, str, str]

MODIFIERS: tuple[Part, ...] = (
    ("", "", ""),
    ("東京", "トウキョウ", "tokyo"),
    ("大阪", "オオサカ", "osaka"),
    ("名古屋", "ナゴヤ", "nagoya"),
    ("横浜", "ヨコハマ", "yokohama"),
    ("京都", "キョウト", "kyoto"),
    ("神戸", "コウベ", "kobe"),
    ("札幌", "サッポロ", "sapporo"),
    ("仙台", "センダイ", "sendai"),
    ("福岡", "フクオカ", "fukuoka"),
    ("広島", "ヒロシマ", "hiroshima"),
    ("北海道", "ホッカイドウ", "hokkaido"),
    ("東北", "トウホク", "tohoku"),
    ("関東", "カントウ", "kanto"),
    ("中部", "チュウブ", "chubu"),
    ("関西", "カンサイ", "kansai"),
    ("九州", "キュウシュウ", "kyushu"),
    ("四国", "シコク", "shikoku"),
    ("沖縄", "オキナワ", "okinawa"),
    ("湘南", "ショウナン", "shonan"),
    ("日本", "ニホン", "nihon"),
    ("新", "シン", "shin"),
    ("第一", "ダイイチ", "daiichi"),
    ("中央", "チュウオウ", "chuo"),
    ("みらい", "ミライ", "mirai"),
    ("グローバル", "グローバル", "global"),
    ("ネクスト", "ネクスト", "next"),
    ("ユニバーサル", "ユニバーサル", "universal"),
    ("アジア", "アジア", "asia"),
    ("パシフィック", "パシフィック", "pacific"),
    ("スマート", "スマート", "smart"),
    ("クリエイト", "クリエイト", "create"),
    ("ワールド", "ワールド", "world"),
    ("トータル", "トータル", "total"),
    ("シティ", "シティ", "city"),
    ("ブルー", "ブルー", "blue"),
    ("グリーン", "グリーン", "green"),
    ("サン", "サン", "sun"),
    ("ニュー", "ニュー", "new"),
    ("プライム", "プライム", "prime"),
    ("ライフ", "ライフ", "life"),
    ("デジタル", "デジタル", "digital"),
    ("エコ", "エコ", "eco"),
    ("アルファ", "アルファ", "alpha"),
    ("オメガ", "オメガ", "omega"),
    ("北", "キタ", "kita"),
    ("南", "ミナミ", "minami"),
    ("東", "ヒガシ", "higashi"),
    ("西", "ニシ", "nishi"),
    ("大", "ダイ", "dai"),
)

CORES: tuple[Part, ...] = (
    ("さくら", "サクラ", "sakura"),
    ("青葉", "アオバ", "aoba"),
    ("大和", "ヤマト", "yamato"),
    ("富士", "フジ", "fuji"),
    ("ひかり", "ヒカリ", "hikari"),
    ("あおぞら", "アオゾラ", "aozora"),
    ("朝日", "アサヒ", "asahi"),
    ("日の出", "ヒノデ", "hinode"),
    ("若葉", "ワカバ", "wakaba"),
    ("松竹", "ショウチク", "shochiku"),
    ("菱和", "リョウワ", "ryowa"),
    ("光洋", "コウヨウ", "koyo"),
    ("昭和", "ショウワ", "showa"),
    ("平和", "ヘイワ", "heiwa"),
    ("協和", "キョウワ", "kyowa"),
    ("三栄", "サンエイ", "san-ei"),
    ("共栄", "キョウエイ", "kyoei"),
    ("丸山", "マルヤマ", "maruyama"),
    ("山田", "ヤマダ", "yamada"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("鈴木", "スズキ", "suzuki"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("森田", "モリタ", "morita"),
    ("石川", "イシカワ", "ishikawa"),
    ("桜井", "サクライ", "sakurai"),
    ("松本", "マツモト", "matsumoto"),
    ("藤原", "フジワラ", "fujiwara"),
    ("橘", "タチバナ", "tachibana"),
    ("白鳥", "シラトリ", "shiratori"),
    ("銀河", "ギンガ", "ginga"),
    ("星野", "ホシノ", "hoshino"),
    ("月光", "ゲッコウ", "gekko"),
    ("虹", "ニジ", "niji"),
    ("はやぶさ", "ハヤブサ", "hayabusa"),
    ("つばさ", "ツバサ", "tsubasa"),
    ("かえで", "カエデ", "kaede"),
    ("あすなろ", "アスナロ", "asunaro"),
    ("ことぶき", "コトブキ", "kotobuki"),
    ("まごころ", "マゴコロ", "magokoro"),
    ("いろは", "イロハ", "iroha"),
    ("なでしこ", "ナデシコ", "nadeshiko"),
    ("みどり", "ミドリ", "midori"),
    ("はるか", "ハルカ", "haruka"),
    ("こだま", "コダマ", "kodama"),
    ("あさひ", "アサヒ", "asahi-k"),
    ("オリオン", "オリオン", "orion"),
    ("ペガサス", "ペガサス", "pegasus"),
    ("フェニックス", "フェニックス", "phoenix"),
    ("アトラス", "アトラス", "atlas"),
    ("ミネルバ", "ミネルバ", "minerva"),
    ("コスモ", "コスモ", "cosmo"),
    ("ノヴァ", "ノヴァ", "nova"),
    ("エール", "エール", "yell"),
    ("リンク", "リンク", "link"),
    ("ブリッジ", "ブリッジ", "bridge"),
    ("ハーモニー", "ハーモニー", "harmony"),
    ("ステラ", "ステラ", "stella"),
    ("ルミナ", "ルミナ", "lumina"),
    ("アクア", "アクア", "aqua"),
    ("テラ", "テラ", "terra"),
    ("ソラ", "ソラ", "sora"),
    ("ウミ", "ウミ", "umi"),
    ("大地", "ダイチ", "daichi"),
    ("清水", "シミズ", "shimizu"),
    ("宝", "タカラ", "takara"),
    ("千代田", "チヨダ", "chiyoda"),
    ("日本橋", "ニホンバシ", "nihonbashi"),
    ("丸の内", "マルノウチ", "marunouchi"),
)

BUSINESSES: tuple[tuple[str, str, str, str], ...] = (
    ("商事", "ショウジ", "shoji", "卸売"),
    ("物産", "ブッサン", "bussan", "卸売"),
    ("システム", "システム", "system", "IT・ソフトウェア"),
    ("システムズ", "システムズ", "systems", "IT・ソフトウェア"),
    ("テクノロジー", "テクノロジー", "technology", "IT・ソフトウェア"),
    ("ソリューションズ", "ソリューションズ", "solutions", "IT・ソフトウェア"),
    ("ネットワークス", "ネットワークス", "networks", "IT・ソフトウェア"),
    ("ラボ", "ラボ", "lab", "IT・ソフトウェア"),
    ("データ", "データ", "data", "IT・ソフトウェア"),
    ("工業", "コウギョウ", "kogyo", "製造"),
    ("製作所", "セイサクショ", "seisakusho", "製造"),
    ("電機", "デンキ", "denki", "製造"),
    ("精機", "セイキ", "seiki", "製造"),
    ("化学", "カガク", "kagaku", "製造"),
    ("食品", "ショクヒン", "shokuhin", "食品"),
    ("フーズ", "フーズ", "foods", "食品"),
    ("製菓", "セイカ", "seika", "食品"),
    ("建設", "ケンセツ", "kensetsu", "建設・不動産"),
    ("不動産", "フドウサン", "fudosan", "建設・不動産"),
    ("ホーム", "ホーム", "home", "建設・不動産"),
    ("運輸", "ウンユ", "unyu", "物流"),
    ("ロジスティクス", "ロジスティクス", "logistics", "物流"),
    ("物流", "ブツリュウ", "butsuryu", "物流"),
    ("薬品", "ヤクヒン", "yakuhin", "医療・ヘルスケア"),
    ("メディカル", "メディカル", "medical", "医療・ヘルスケア"),
    ("ヘルスケア", "ヘルスケア", "healthcare", "医療・ヘルスケア"),
    ("コンサルティング", "コンサルティング", "consulting", "専門サービス"),
    ("パートナーズ", "パートナーズ", "partners", "専門サービス"),
    ("企画", "キカク", "kikaku", "広告・メディア"),
    ("デザイン", "デザイン", "design", "広告・メディア"),
    ("メディア", "メディア", "media", "広告・メディア"),
    ("エージェンシー", "エージェンシー", "agency", "広告・メディア"),
    ("リテール", "リテール", "retail", "小売"),
    ("ストア", "ストア", "store", "小売"),
    ("百貨店", "ヒャッカテン", "hyakkaten", "小売"),
    ("教育", "キョウイク", "kyoiku", "教育"),
    ("アカデミー", "アカデミー", "academy", "教育"),
    ("人材", "ジンザイ", "jinzai", "人材"),
    ("キャリア", "キャリア", "career", "人材"),
    ("ファイナンス", "ファイナンス", "finance", "金融"),
    ("証券", "ショウケン", "shoken", "金融"),
    ("エナジー", "エナジー", "energy", "エネルギー"),
    ("電力", "デンリョク", "denryoku", "エネルギー"),
    ("観光", "カンコウ", "kanko", "旅行・ホテル"),
    ("ホテルズ", "ホテルズ", "hotels", "旅行・ホテル"),
)

# (prefix?, legal form, TLD). A prefix form reads 株式会社さくら商事, a suffix form
# さくら商事株式会社.
LEGAL_FORMS: tuple[tuple[bool, str, str], ...] = (
    (True, "株式会社", ".co.jp"),
    (True, "株式会社", ".co.jp"),
    (False, "株式会社", ".co.jp"),
    (False, "株式会社", ".jp"),
    (False, "合同会社", ".jp"),
    (True, "有限会社", ".co.jp"),
    (False, "株式会社", ".com"),
)

MAX_COMPANIES = len(MODIFIERS) * len(CORES) * len(BUSINESSES)
"""How many distinct demo company names exist."""

FAMILY_NAMES: tuple[Part, ...] = (
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"),
    ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"),
    ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"),
    ("清水", "シミズ", "shimizu"),
    ("山崎", "ヤマザキ", "yamazaki"),
    ("森", "モリ", "mori"),
    ("池田", "イケダ", "ikeda"),
    ("橋本", "ハシモト", "hashimoto"),
    ("阿部", "アベ", "abe"),
    ("石川", "イシカワ", "ishikawa"),
    ("前田", "マエダ", "maeda"),
    ("藤田", "フジタ", "fujita"),
    ("小川", "オガワ", "ogawa"),
    ("岡田", "オカダ", "okada"),
    ("後藤", "ゴトウ", "goto"),
    ("長谷川", "ハセガワ", "hasegawa"),
    ("村上", "ムラカミ", "murakami"),
    ("近藤", "コンドウ", "kondo"),
    ("石井", "イシイ", "ishii"),
    ("坂本", "サカモト", "sakamoto"),
    ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"),
    ("藤井", "フジイ", "fujii"),
    ("西村", "ニシムラ", "nishimura"),
)

GIVEN_NAMES: tuple[Part, ...] = (
    ("美咲", "ミサキ", "misaki"),
    ("陽菜", "ヒナ", "hina"),
    ("結衣", "ユイ", "yui"),
    ("葵", "アオイ", "aoi"),
    ("さくら", "サクラ", "sakura"),
    ("愛", "アイ", "ai"),
    ("真由美", "マユミ", "mayumi"),
    ("恵子", "ケイコ", "keiko"),
    ("由美", "ユミ", "yumi"),
    ("直子", "ナオコ", "naoko"),
    ("舞", "マイ", "mai"),
    ("彩", "アヤ", "aya"),
    ("千尋", "チヒロ", "chihiro"),
    ("奈々", "ナナ", "nana"),
    ("優子", "ユウコ", "yuko"),
    ("翔太", "ショウタ", "shota"),
    ("大輔", "ダイスケ", "daisuke"),
    ("健太", "ケンタ", "kenta"),
    ("拓也", "タクヤ", "takuya"),
    ("翔", "ショウ", "sho"),
    ("蓮", "レン", "ren"),
    ("陽翔", "ハルト", "haruto"),
    ("大樹", "ダイキ", "daiki"),
    ("誠", "マコト", "makoto"),
    ("浩", "ヒロシ", "hiroshi"),
    ("隆", "タカシ", "takashi"),
    ("健一", "ケンイチ", "kenichi"),
    ("直樹", "ナオキ", "naoki"),
    ("和也", "カズヤ", "kazuya"),
    ("亮", "リョウ", "ryo"),
    ("悠真", "ユウマ", "yuma"),
    ("一郎", "イチロウ", "ichiro"),
    ("修", "オサム", "osamu"),
    ("智子", "トモコ", "tomoko"),
    ("裕子", "ユウコ", "yuko-h"),
)


@dataclass(frozen=True)
class CompanyName:
    """A demo company: display name, name without legal form, reading, web domain, industry."""

    name: str
    normalized: str
    kana: str
    domain: str
    industry: str


@dataclass(frozen=True)
class PersonName:
    """A person: ``family given`` in kanji and katakana, and a romaji email local part."""

    name: str
    kana: str
    email_local: str


def company_names(count: int, rng: random.Random) -> list[CompanyName]:
    """``count`` distinct company names (``count <= MAX_COMPANIES``), in the order drawn."""
    codes = rng.sample(range(MAX_COMPANIES), count)
    return [_company(code, rng.randrange(len(LEGAL_FORMS))) for code in codes]


def person_name(rng: random.Random) -> PersonName:
    """A random Japanese person name."""
    family = FAMILY_NAMES[rng.randrange(len(FAMILY_NAMES))]
    given = GIVEN_NAMES[rng.randrange(len(GIVEN_NAMES))]
    given_romaji = given[2].split("-")[0]
    return PersonName(
        name=f"{family[0]} {given[0]}",
        kana=f"{family[1]} {given[1]}",
        email_local=f"{given_romaji}.{family[2]}",
    )


def normalize_company_name(name: str) -> str:
    """Name without legal form, NFKC-folded and case-folded, without spaces."""
    text = unicodedata.normalize("NFKC", name)
    for form in ("株式会社", "合同会社", "有限会社", "(株)", "(同)", "(有)"):
        text = text.replace(form, "")
    return "".join(text.split()).casefold()


def _company(code: int, form_index: int) -> CompanyName:
    code, business_index = divmod(code, len(BUSINESSES))
    modifier_index, core_index = divmod(code, len(CORES))
    modifier, core, business = (
        MODIFIERS[modifier_index],
        CORES[core_index],
        BUSINESSES[business_index],
    )
    base = f"{modifier[0]}{core[0]}{business[0]}"
    is_prefix, legal, tld = LEGAL_FORMS[form_index]
    name = f"{legal}{base}" if is_prefix else f"{base}{legal}"
    romaji = "-".join(part for part in (modifier[2], core[2], business[2]) if part)
    return CompanyName(
        name=name,
        normalized=normalize_company_name(base),
        kana=f"{modifier[1]}{core[1]}{business[1]}",
        domain=f"{romaji}{tld}",
        industry=business[3],
    )
