"""Word lists behind the heuristic NER rules, kept small and in-module (no downloads).

English entries are lower case; Chinese entries are Simplified (text is compared after t2s).
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- English ---------------------------------------------------------------------------------

MONTHS_AND_DAYS = _words(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday"""
)

# Capitalised words that start sentences or headings but never name anything.
STOPWORDS_EN = MONTHS_AND_DAYS | _words(
    """a an the this that these those it its he she his her hers him they them their we our us i
    my me you your yes no not and or but nor so yet if then than when while where which who whom
    whose what why how after before during since until upon over under about above below into
    onto from with without within by for of on in at to as is are was were be been being has
    have had do does did will would shall should can could may might must also however although
    though because thus therefore meanwhile moreover furthermore today yesterday tomorrow
    tonight now later earlier here there all any each every both either neither some many most
    more few several such other another one two three four five six seven eight nine ten first
    second third last next new according despite including following mr mrs ms dr prof sir
    chapter section figure table page note see"""
)

# A final word that makes a capitalised sequence an organisation.
ORG_SUFFIXES_EN = _words(
    """inc inc. corp corp. corporation ltd ltd. llc llp plc co co. company companies group
    holdings foundation university institute bank association society agency council
    committee ministry department laboratories labs technologies technology systems partners
    capital ventures airlines airways motors pharmaceuticals industries college school academy
    museum church party club federation union bureau commission authority fund trust studios
    records media networks solutions services enterprises organization organisation
    alliance consortium press hospital electronics devices instruments semiconductor
    semiconductors therapeutics biosciences robotics communications telecom broadcasting
    railway railways"""
)

# Suffixes dropped when matching a short alias ("Apple" for "Apple Inc.").
CORPORATE_FORMS_EN = _words(
    """inc inc. corp corp. corporation ltd ltd. llc llp plc co co. company group holdings ag
    gmbh sa s.a s.a. nv n.v n.v. bv kk spa"""
)

# A first word that, followed by "of", starts an organisation name ("Bank of America").
ORG_HEADS_EN = _words(
    """university bank institute ministry department museum school college academy board
    council society association federation union commission office bureau agency church
    court house government league order"""
)

# A first word that, followed by "of", starts a place name ("Republic of Korea").
LOCATION_HEADS_EN = _words("republic kingdom state city province county gulf bay isle")

# Final words of place names; buildings and sites count as places (Etihad Stadium).
LOCATION_SUFFIXES_EN = _words(
    """city county state province valley river lake mountain mountains island islands bay
    street road avenue square district region coast peninsula desert ocean sea stadium airport
    cathedral"""
)

# Words that precede a person's name ("CEO Tim Cook", "Dr. Smith") and are not part of it.
PERSON_TITLES_EN = _words(
    """mr mr. mrs mrs. ms ms. dr dr. prof prof. professor sir dame lord lady president
    vice-president ceo cfo cto coo chairman chairwoman chair founder co-founder cofounder
    director minister senator governor mayor judge general king queen prince princess pope
    chancellor secretary premier ambassador author actor actress singer scientist engineer
    executive economist spokesman spokeswoman"""
)

PARTICLES_EN = _words("de da del della di du van von der den la le bin al")

LOCATION_CUES_EN = _words("in near across throughout")

COUNTRIES_AND_CITIES_EN = _words(
    """afghanistan argentina australia austria belgium brazil canada chile china colombia
    cuba denmark egypt england ethiopia finland france germany greece india indonesia iran
    iraq ireland israel italy japan kenya korea malaysia mexico netherlands nigeria norway
    pakistan peru philippines poland portugal russia scotland singapore spain sweden
    switzerland taiwan thailand turkey ukraine vietnam wales europe asia africa america
    antarctica london paris berlin madrid rome tokyo beijing shanghai shenzhen hangzhou
    taipei hsinchu kaohsiung taichung tainan seoul delhi mumbai moscow toronto vancouver
    sydney melbourne dubai cairo istanbul amsterdam brussels vienna zurich geneva stockholm
    oslo helsinki dublin lisbon prague warsaw boston chicago seattle houston dallas atlanta
    miami denver detroit philadelphia washington cupertino redmond u.s. u.k. alabama alaska
    arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
    minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania
    tennessee texas utah vermont virginia wisconsin wyoming"""
)

# Multi-word places, stored normalised (lower case, single spaces).
PLACES_EN = frozenset(
    {
        "new york",
        "new york city",
        "los angeles",
        "san francisco",
        "san jose",
        "san diego",
        "silicon valley",
        "hong kong",
        "new delhi",
        "new zealand",
        "south africa",
        "south korea",
        "north korea",
        "united states",
        "united kingdom",
        "united arab emirates",
        "saudi arabia",
        "mountain view",
        "menlo park",
        "palo alto",
        "new jersey",
        "new hampshire",
        "new mexico",
        "north dakota",
        "south dakota",
        "rhode island",
        "west virginia",
        "north carolina",
        "south carolina",
        "washington d.c.",
        "european union",
    }
)

# --- Chinese ---------------------------------------------------------------------------------

# Words ending an organisation name; the name-like words before them are merged in.
ORG_SUFFIXES_ZH = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "委员会",
    "基金会",
    "研究院",
    "研究所",
    "科学院",
    "事务所",
    "公司",
    "集团",
    "银行",
    "大学",
    "学院",
    "医院",
    "协会",
    "学会",
    "工会",
    "法院",
    "电视台",
    "部",
    "局",
    "署",
    "院",
    "厅",
    "所",
)

# Common nouns that end like an organisation ("总部" headquarters, "内部" inside).
NOT_ORG_SUFFIX_WORDS_ZH = _words(
    """总部 本部 干部 内部 外部 全部 局部 东部 西部 南部 北部 中部 头部 底部 顶部 胸部 腹部 背部
    当局 结局 格局 布局 大局 场所 住所 厕所 处所 庭院 住院 寺院 剧院 书院 大厅 客厅 餐厅"""
)

# Organisation words that name nothing by themselves ("服务公司" a service company).
GENERIC_ORG_PREFIXES_ZH = _words(
    """总 分 子 母 本 该 此 其 这家 那家 一家 某 各 全 内 外 上 下 东 西 南 北 中 东南 西南
    东北 西北 干 俱乐 总部 服务 科技 贸易 投资 控股 研究 医学 科学 电影 美容 理发 学 商学
    法学 工学 文学 董事 管理 设计 建筑 物业 保险 证券 航空 汽车 电子 网络 软件 咨询 顾问
    国家 政府 地方 私立 公立 国立 研究生 附属 附设 疗养 卫生 派出 剧 戏 医 寺 学术 当
    结 布 格 内阁 住 病 庭 厕 场 诊 剧场 场所 研究所 事务 技术 新创 初创 创业 上市 民营 国营
    外资 跨国"""
)

# Words allowed inside an organisation name besides nouns ("鸿海精密工业股份有限公司").
ORG_INNER_WORDS_ZH = _words(
    """制造 精密 工业 电子 科技 国际 股份 有限 控股 发展 实业 投资 贸易 建设 开发 资讯 信息
    电信 电机 化学 生物 医药 能源 航空 运输 物流 半导体 光电 国立 私立 中央 中华 人民
    纪念 联合 附设 附属 交通 师范 工程 金融 商业 农业 电力 石油 钢铁 汽车 网络 软件"""
)

# Part-of-speech flags that may appear inside an organisation name.
ORG_INNER_FLAGS_ZH = frozenset({"n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "eng", "j", "vn"})
PROPER_FLAGS_ZH = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz", "eng", "j"})

LOCATION_SUFFIXES_ZH = ("特别行政区", "自治区", "省", "市", "县", "区", "州", "镇", "乡")

# Common surnames (Simplified); two-character ones are checked first.
COMPOUND_SURNAMES_ZH = _words(
    "欧阳 司马 诸葛 上官 司徒 东方 夏侯 慕容 长孙 皇甫 尉迟 令狐 张简 范姜"
)
SURNAMES_ZH = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁沈任姚卢姜崔钟谭陆汪范廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺"
    "毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪辛柯庄凌温涂游颜"
    "高简詹翁纪欧蓝连卓古巫尤阮童"  # common in Taiwan
)

# Characters that end a run of single characters: function words, pronouns, common verbs.
NAME_BREAK_CHARS_ZH = frozenset(
    "的了在是和与及等也都就被把从对为向到而或但又很将会已并由其这那个们上下中于以之称表指道曾"
    "还再才让给来去说要能可该所他她它我你您有无不没年月日时分后前里内外出"
)

# Places jieba's (mainland) dictionary misses, mostly in Taiwan.
PLACES_ZH = _words(
    """台北 新北 桃园 台中 台南 高雄 基隆 新竹 嘉义 苗栗 彰化 南投 云林 屏东 宜兰 花莲 台东
    澎湖 金门 马祖 板桥 竹北 林口 内湖 南港 信义 淡水 九份 垦丁 硅谷 新竹科学园区"""
)

# Words jieba tags as names or places that are ordinary nouns.
STOPWORDS_ZH = _words(
    """山区 地区 市区 郊区 城市 社区 小区 灾区 景区 园区 全国 国内 海外 各地 当地 本地 外地 全球
    世界 国际 中外 东西 南北 博士后 大陆 内地 城乡 县市 省市 公司 集团 银行 大学 医院 政府
    中央 地方 人民 群众 老师 同学 先生 女士 小姐 科学园区 工业区"""
)

# --- Organisations either tagger gets wrong (well-known, tagged as people, places or adjectives)

ORGS_EN = _words(
    """microsoft google apple amazon github facebook meta ibm intel nvidia tesla twitter openai
    samsung sony tsmc foxconn huawei alibaba tencent baidu netflix oracle linkedin youtube
    uber airbnb spacex boeing toyota xiaomi bytedance tiktok qualcomm mediatek"""
)

ORGS_ZH = _words(
    """华为 微软 百度 京东 腾讯 阿里巴巴 小米 台积电 鸿海 联发科 谷歌 脸书 亚马逊 字节跳动 美团
    网易 新浪 富士康 三星 索尼 英特尔 辉达 英伟达 高通 特斯拉 优步 领英"""
)
