"""Tables of Chinese names the synthetic-city generator draws from.

Plain data: real kinds of municipal departments (with the pinyin initials used as codes)
and of government systems, and the characters place names are made of.
"""

# (code, slug, name, mlps_level, isolated?) — a typical prefecture-level city's departments.
DEPARTMENTS = [
    ("FGW", "fgw", "市发展和改革委员会", 3, False),
    ("JYJ", "jyj", "市教育局", 2, False),
    ("KJJ", "kjj", "市科学技术局", 2, False),
    ("GXJ", "gxj", "市工业和信息化局", 2, False),
    ("GAJ", "gaj", "市公安局", 3, True),
    ("MZJ", "mzj", "市民政局", 2, False),
    ("SFJ", "sfj", "市司法局", 3, True),
    ("CZJ", "czj", "市财政局", 3, True),
    ("RSJ", "rsj", "市人力资源和社会保障局", 3, False),
    ("ZRZYJ", "zrzyj", "市自然资源局", 3, False),
    ("STHJJ", "sthjj", "市生态环境局", 2, False),
    ("ZJJ", "zjj", "市住房和城乡建设局", 2, False),
    ("JTJ", "jtj", "市交通运输局", 2, False),
    ("SLJ", "slj", "市水利局", 2, False),
    ("NYNCJ", "nyncj", "市农业农村局", 2, False),
    ("SWJ", "swj", "市商务局", 2, False),
    ("WGLJ", "wglj", "市文化广电新闻出版旅游局", 2, False),
    ("WJW", "wjw", "市卫生健康委员会", 3, False),
    ("TYJRJ", "tyjrj", "市退役军人事务局", 2, False),
    ("YJJ", "yjj", "市应急管理局", 3, False),
    ("SJJ", "sjj", "市审计局", 3, True),
    ("GZW", "gzw", "市国有资产监督管理委员会", 2, False),
    ("SCJGJ", "scjgj", "市市场监督管理局", 3, False),
    ("TJJ", "tjj", "市统计局", 2, False),
    ("YBJ", "ybj", "市医疗保障局", 3, False),
    ("LYJ", "lyj", "市林业局", 2, False),
    ("XFJ", "xfj", "市信访局", 2, False),
    ("ZWFWJ", "zwfwj", "市行政审批局", 3, False),
    ("SJZYJ", "sjzyj", "市数据资源管理局", 3, False),
    ("CGJ", "cgj", "市城市管理局", 2, False),
    ("TYJ", "tyj", "市体育局", 2, False),
    ("JRB", "jrb", "市地方金融监督管理局", 2, False),
    ("GFB", "gfb", "市人民防空办公室", 2, False),
    ("DAJ", "daj", "市档案馆", 2, False),
    ("QXJ", "qxj", "市气象局", 2, False),
    ("DZJ", "dzj", "市地震局", 2, False),
    ("GJJ", "gjj", "市住房公积金管理中心", 3, False),
    ("YCJ", "ycj", "市烟草专卖局", 2, False),
    ("SWUJ", "swuj", "市税务局", 3, False),
    ("HGJ", "hgj", "市海关", 2, False),
    ("RMZF", "rmzf", "市人民政府办公室", 3, False),
    ("RDBG", "rdbg", "市人大常委会办公厅", 2, False),
    ("ZXBG", "zxbg", "市政协办公厅", 2, False),
    ("JWJ", "jwj", "市纪委监委", 3, True),
    ("ZZB", "zzb", "市委组织部", 3, False),
    ("XCB", "xcb", "市委宣传部", 2, False),
    ("TZB", "tzb", "市委统战部", 2, False),
    ("ZFW", "zfw", "市委政法委", 3, False),
    ("YLJ", "ylj", "市医疗器械检验所", 2, False),
    ("GHY", "ghy", "市规划设计研究院", 2, False),
]

SYSTEM_KINDS = [
    "办公自动化系统",
    "门户网站",
    "行政审批系统",
    "数据共享交换平台",
    "档案管理系统",
    "视频会议系统",
    "财务管理系统",
    "人事管理系统",
    "业务监管平台",
    "统计分析系统",
    "移动办公平台",
    "信用信息系统",
    "应急指挥系统",
    "地理信息系统",
    "12345热线系统",
    "电子证照系统",
    "执法办案系统",
    "公共服务平台",
    "项目管理系统",
    "决策支持系统",
]

PLACE_CHARS = (
    "东南西北青云石山河湖桥塘岭坪溪田港林泉源安平兴和新丰龙凤金银长高黄白马花梅桃柳竹松岗"
    "华阳庄店集口湾洲坝亭寺陂坑圩埠墩岩峰岳川江海沙滩渡门楼"
)

COUNTY_SUFFIX = ["区", "县", "县", "市"]
TOWNSHIP_SUFFIX = ["镇", "镇", "乡", "街道"]
VILLAGE_SUFFIX = ["村", "村", "村", "社区"]
CHINESE_NUMERALS = "一二三四五六七八九十"
