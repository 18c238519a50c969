package demo

// The demo catalog's content: a three-level category tree whose leaves say how to make
// products for them. Lists are written as "a|b|c" and brands as
// "品牌:系列/系列;品牌:系列" to keep the table readable; see split and parseBrands.
// A brand without its own series uses the leaf's series, or defaultSeries.

// specDef is a spec a leaf's products may declare. Each value's position in the list adds
// step percent to the SKU price (larger capacity costs more); step 0 keeps one price.
type specDef struct {
	name   string
	values string
	step   int
}

type leafDef struct {
	name   string
	weight int      // products per round of leaves; 0 means 1
	price  [2]int64 // SKU prices in fen, lowest and highest
	nouns  string   // the last word of titles: what the product is
	brands string
	series string // used by brands that name none
	specs  []specDef
	points string // selling points for subtitles and descriptions
}

type midDef struct {
	name   string
	leaves []leafDef
}

type topDef struct {
	name string
	mids []midDef
}

const defaultSeries = "经典款|2024新款|升级款|旗舰款|基础款"

// Shared specs.
var (
	phoneColor   = specDef{name: "颜色", values: "曜石黑|雪域白|冰川蓝|流光紫|翡冷翠|星河银"}
	phoneStorage = specDef{name: "容量", values: "8GB+128GB|8GB+256GB|12GB+256GB|12GB+512GB|16GB+1TB", step: 12}
	plainColor   = specDef{name: "颜色", values: "黑色|白色|灰色|蓝色|粉色|绿色"}
	darkLight    = specDef{name: "颜色", values: "黑色|白色|银色"}
	edition      = specDef{name: "版本", values: "标准版|升级版|旗舰版", step: 20}
	clothColor   = specDef{name: "颜色", values: "黑色|白色|米白|藏青|卡其|酒红|雾霾蓝|燕麦色"}
	womenSize    = specDef{name: "尺码", values: "XS|S|M|L|XL"}
	menSize      = specDef{name: "尺码", values: "M|L|XL|XXL|XXXL"}
	womenShoe    = specDef{name: "尺码", values: "35|36|37|38|39|40"}
	menShoe      = specDef{name: "尺码", values: "39|40|41|42|43|44"}
	kidsSize     = specDef{name: "尺码", values: "100cm|110cm|120cm|130cm|140cm|150cm"}
	snackFlavor  = specDef{name: "口味", values: "原味|香辣|五香|蜂蜜黄油|海苔|芝士|黑胡椒"}
	bedSize      = specDef{name: "尺寸", values: "1.2m床|1.5m床|1.8m床|2.0m床", step: 15}
	creamVolume  = specDef{name: "容量", values: "15ml|30ml|50ml|75ml", step: 45}
)

var catalogTree = []topDef{
	{name: "手机数码", mids: []midDef{
		{name: "手机通讯", leaves: []leafDef{
			{name: "手机", weight: 3, price: [2]int64{99900, 999900}, nouns: "手机|5G手机|智能手机|拍照手机",
				brands: "Apple:iPhone 15 Pro Max/iPhone 15 Pro/iPhone 15/iPhone 14;华为:Mate 60 Pro/Mate 60/Pura 70 Pro/nova 12;" +
					"小米:14 Ultra/14/Redmi K70/Redmi Note 13;OPPO:Find X7/Reno 11/A2 Pro;vivo:X100 Pro/X100/S18/iQOO 12;荣耀:Magic6/荣耀90/X50",
				specs:  []specDef{phoneColor, phoneStorage},
				points: "旗舰芯片，流畅不卡顿|5000mAh 大电池，续航一整天|影像旗舰，夜景更清晰|120Hz 高刷护眼屏|5G 双卡双待|IP68 防尘防水|超级快充，充电 10 分钟用半天"},
			{name: "对讲机", price: [2]int64{9900, 199900}, nouns: "对讲机|民用对讲机|手台",
				brands: "摩托罗拉:T62/XIR C1200/Mag One;宝锋:BF-888S/UV-5R/UV-82;海能达:BD500/TC-500S",
				specs:  []specDef{{name: "颜色", values: "黑色|灰色|橙色"}, {name: "套装", values: "单台装|两台装", step: 80}},
				points: "大功率远距离通话|超长待机|免费公网频段|一键加密，通话不串频|IP54 防水防尘"},
		}},
		{name: "手机配件", leaves: []leafDef{
			{name: "充电器", weight: 2, price: [2]int64{2990, 29900}, nouns: "充电器|快充充电器|氮化镓充电器|充电头",
				brands: "Apple:20W USB-C/35W 双口;小米:67W/120W 神仙秒充;华为:66W 超级快充/88W;Anker:安克 Nano/安克 65W;绿联:65W 氮化镓/30W 迷你",
				specs:  []specDef{{name: "颜色", values: "白色|黑色"}, {name: "套装", values: "单充电头|充电头+数据线", step: 20}},
				points: "多协议兼容，苹果安卓都能充|氮化镓小体积|过热保护更安心|多口同时快充|折叠插脚，出差好带"},
			{name: "数据线", price: [2]int64{990, 14900}, nouns: "数据线|快充数据线|Type-C 数据线|充电线",
				brands: "绿联;Anker;倍思;Apple:USB-C 编织/Lightning;小米",
				series: "编织款|弯头款|双头款|加长款",
				specs:  []specDef{{name: "长度", values: "0.5m|1m|1.5m|2m", step: 10}, {name: "颜色", values: "白色|黑色|灰色"}},
				points: "支持 100W 快充|编织线身耐弯折|USB 2.0 数据传输|铝合金接头|通过 2 万次弯折测试"},
			{name: "充电宝", price: [2]int64{4900, 29900}, nouns: "充电宝|移动电源|磁吸充电宝",
				brands: "小米;Anker;罗马仕;倍思;品胜", series: "口袋版|快充版|磁吸版|户外版",
				specs:  []specDef{{name: "容量", values: "5000mAh|10000mAh|20000mAh", step: 35}, {name: "颜色", values: "白色|黑色|蓝色"}},
				points: "可带上飞机|22.5W 双向快充|数显电量|自带线，不用另带|轻薄小巧"},
			{name: "手机壳", price: [2]int64{1990, 39900}, nouns: "手机壳|保护壳|磁吸手机壳",
				brands: "倍思;闪魔;Apple:MagSafe 硅胶/MagSafe 透明;犀牛盾;图拉斯", series: "透明款|磨砂款|防摔款|磁吸款",
				specs:  []specDef{{name: "适用机型", values: "iPhone 15|iPhone 15 Pro|iPhone 15 Pro Max|华为 Mate 60|小米 14"}, {name: "颜色", values: "透明|黑色|午夜蓝|薄荷绿"}},
				points: "四角气囊防摔|不发黄|精准开孔|支持无线充电|亲肤手感"},
		}},
		{name: "耳机音箱", leaves: []leafDef{
			{name: "蓝牙耳机", weight: 3, price: [2]int64{9900, 199900}, nouns: "蓝牙耳机|真无线蓝牙耳机|降噪蓝牙耳机|运动蓝牙耳机",
				brands: "Apple:AirPods Pro 2/AirPods 3;华为:FreeBuds Pro 3/FreeBuds 5i;索尼:WF-1000XM5/WF-C700N;小米:Buds 4 Pro/Redmi Buds 5;" +
					"OPPO:Enco X2/Enco Air3;漫步者:Lolli Pro 3/声迈 X1",
				specs:  []specDef{{name: "颜色", values: "白色|黑色|蓝色|绿色"}, {name: "版本", values: "标准版|无线充电版", step: 10}},
				points: "主动降噪，通勤更安静|40 小时总续航|低延迟游戏模式|双设备连接|蓝牙 5.3 稳定传输|入耳检测，摘下即停"},
			{name: "头戴耳机", price: [2]int64{19900, 299900}, nouns: "头戴式耳机|头戴式蓝牙耳机|降噪耳机",
				brands: "索尼:WH-1000XM5/WH-CH720N;Bose:QC45/700;森海塞尔:Momentum 4/HD 450BT;漫步者:W820NB/花再 Halo;Apple:AirPods Max",
				specs:  []specDef{{name: "颜色", values: "黑色|银色|深蓝|铂金白"}},
				points: "旗舰级降噪|30 小时长续航|佩戴舒适不夹头|高解析音质|折叠收纳"},
			{name: "蓝牙音箱", price: [2]int64{9900, 199900}, nouns: "蓝牙音箱|便携音箱|智能音箱",
				brands: "小米:小爱音箱 Pro/小爱音箱 Play;JBL:Flip 6/Charge 5/GO 3;索尼:SRS-XB13/ULT Field 1;漫步者:M230/花再 Air;Bose:SoundLink Flex",
				specs:  []specDef{{name: "颜色", values: "黑色|蓝色|红色|白色"}},
				points: "360° 环绕声|IP67 防水，户外随身|12 小时续航|重低音澎湃|支持双机立体声"},
		}},
		{name: "摄影摄像", leaves: []leafDef{
			{name: "数码相机", price: [2]int64{299900, 2999900}, nouns: "微单相机|数码相机|全画幅相机",
				brands: "索尼:A7M4/ZV-E10/A6400;佳能:EOS R6 II/EOS R50/G7X3;富士:X-T5/X-S20/X100VI;尼康:Z6 III/Z30",
				specs:  []specDef{{name: "套餐", values: "单机身|标准镜头套机|双镜头套机", step: 25}, {name: "颜色", values: "黑色|银色"}},
				points: "高速连拍|五轴防抖|4K 60p 视频|眼部追焦|翻转屏，自拍 vlog 方便"},
			{name: "运动相机", price: [2]int64{99900, 499900}, nouns: "运动相机|全景相机|Vlog 相机",
				brands: "大疆:Osmo Action 4/Osmo Pocket 3;GoPro:HERO12/HERO11;Insta360:X3/GO 3/Ace Pro",
				specs:  []specDef{{name: "套餐", values: "标准套装|畅拍套装|全能套装", step: 20}},
				points: "裸机防水|超强防抖|4K 120 帧|磁吸快拆|低温续航"},
		}},
		{name: "智能设备", leaves: []leafDef{
			{name: "智能手表", price: [2]int64{19900, 699900}, nouns: "智能手表|运动手表|手表",
				brands: "Apple:Watch Series 9/Watch SE/Watch Ultra 2;华为:WATCH 4 Pro/WATCH GT 4/WATCH FIT 3;小米:Watch S3/Watch 2;佳明:Forerunner 265/fenix 7",
				specs:  []specDef{{name: "颜色", values: "午夜色|星光色|银色|黑色"}, {name: "表带", values: "硅胶表带|皮革表带|金属表带", step: 15}},
				points: "心率血氧全天监测|14 天超长续航|100+ 运动模式|NFC 公交门禁|独立通话"},
			{name: "智能手环", price: [2]int64{14900, 39900}, nouns: "智能手环|运动手环",
				brands: "小米:手环 8/手环 8 Pro;华为:手环 8/手环 9;荣耀:手环 7", specs: []specDef{plainColor, {name: "版本", values: "标准版|NFC版", step: 20}},
				points: "轻至 20g|睡眠监测|50 米防水|两周续航|消息提醒"},
		}},
	}},
	{name: "电脑办公", mids: []midDef{
		{name: "电脑整机", leaves: []leafDef{
			{name: "笔记本", weight: 2, price: [2]int64{349900, 2499900}, nouns: "笔记本电脑|轻薄本|游戏本",
				brands: "Apple:MacBook Air 13/MacBook Air 15/MacBook Pro 14;联想:小新 Pro 16/ThinkPad X1 Carbon/拯救者 Y9000P;华为:MateBook X Pro/MateBook 14;" +
					"戴尔:XPS 13/灵越 14;华硕:天选 5/无畏 Pro 15",
				specs:  []specDef{{name: "颜色", values: "深空灰|银色|星光色"}, {name: "配置", values: "16GB+512GB|16GB+1TB|32GB+1TB", step: 15}},
				points: "2.8K 高刷屏|全天续航|轻至 1.2kg|雷电接口|独显满血释放|背光键盘"},
			{name: "台式机", price: [2]int64{299900, 1999900}, nouns: "台式电脑|一体机|迷你主机",
				brands: "Apple:iMac 24/Mac mini;联想:天逸 510S/拯救者刃 7000K;戴尔:OptiPlex 7010;惠普:战 99/暗影精灵 9",
				specs:  []specDef{{name: "配置", values: "i5/16GB/512GB|i7/16GB/1TB|i7/32GB/1TB", step: 20}},
				points: "静音散热|丰富接口|免费上门安装|三年质保|支持内存扩展"},
			{name: "平板电脑", price: [2]int64{99900, 999900}, nouns: "平板电脑|平板",
				brands: "Apple:iPad Air/iPad Pro 11/iPad mini 6/iPad 10;华为:MatePad Pro/MatePad 11.5;小米:Pad 6/Redmi Pad SE;荣耀:Pad 9",
				specs:  []specDef{{name: "颜色", values: "深空灰|银色|蓝色|紫色"}, {name: "容量", values: "128GB|256GB|512GB", step: 15}},
				points: "2.5K 全面屏|支持手写笔|网课学习好帮手|四扬声器|长续航"},
		}},
		{name: "外设产品", leaves: []leafDef{
			{name: "键盘", price: [2]int64{9900, 129900}, nouns: "机械键盘|无线键盘|蓝牙键盘",
				brands: "罗技:MX Keys S/K380/G913;雷蛇:黑寡妇 V4/猎魂光蛛;樱桃:MX 3.0S/KC 200;达尔优:EK87/A87",
				specs:  []specDef{{name: "颜色", values: "黑色|白色|粉色"}, {name: "轴体", values: "红轴|茶轴|青轴|静音红轴"}},
				points: "三模连接|热插拔轴体|RGB 背光|多设备切换|Mac/Windows 双系统"},
			{name: "鼠标", price: [2]int64{4900, 99900}, nouns: "无线鼠标|游戏鼠标|蓝牙鼠标",
				brands: "罗技:MX Master 3S/G502 HERO/M330/GPW 二代;雷蛇:毒蝰 V3/巴塞利斯蛇;微软:Arc/精准鼠标",
				specs:  []specDef{darkLight},
				points: "静音按键|人体工学设计|高精度传感器|一次充电用 70 天|多设备切换"},
			{name: "显示器", price: [2]int64{69900, 499900}, nouns: "显示器|电竞显示器|4K 显示器",
				brands: "戴尔:U2723QE/S2721DS;小米:Redmi 27 2K/Mini LED;AOC:24G2/Q27G3S;LG:27UP850",
				specs:  []specDef{{name: "尺寸", values: "24英寸|27英寸|32英寸", step: 25}},
				points: "IPS 广色域|165Hz 高刷|Type-C 一线连|升降旋转支架|低蓝光护眼"},
		}},
		{name: "办公设备", leaves: []leafDef{
			{name: "打印机", price: [2]int64{49900, 299900}, nouns: "打印机|彩色喷墨打印机|激光打印机",
				brands: "惠普:Smart Tank 750/LaserJet M232;佳能:G3800/MF3010;爱普生:L3251/L4268;兄弟:DCP-T426W",
				specs:  []specDef{{name: "功能", values: "单打印|打印复印扫描一体", step: 30}},
				points: "手机无线打印|墨仓式低成本|自动双面|家用作业打印|快速首页输出"},
			{name: "投影仪", price: [2]int64{149900, 899900}, nouns: "投影仪|家用投影仪|激光投影仪",
				brands: "极米:H6/Z7X/RS 10;当贝:X5/D6X;坚果:N1/O2", specs: []specDef{edition},
				points: "4K 超清|自动对焦梯形校正|卧室投墙不挑地方|杜比音效|内置影视资源"},
		}},
		{name: "文具耗材", leaves: []leafDef{
			{name: "签字笔", price: [2]int64{990, 9900}, nouns: "中性笔|签字笔|按动笔",
				brands: "晨光:优品/孔庙祈福/K35;得力:S01/思达;百乐:P-500/Juice;斑马:JJ15/Sarasa",
				specs:  []specDef{{name: "颜色", values: "黑色|蓝色|红色"}, {name: "规格", values: "12支装|24支装|60支装", step: 80}},
				points: "0.5mm 顺滑书写|速干不洇墨|考试专用|按动设计|握感舒适"},
			{name: "本册便签", price: [2]int64{590, 5990}, nouns: "活页本|记事本|便利贴|笔记本本子",
				brands: "国誉;得力;晨光;齐心", series: "简约款|加厚款|网格款|复古款",
				specs:  []specDef{{name: "尺寸", values: "A5|B5|A4", step: 20}, {name: "数量", values: "单本|5本装", step: 200}},
				points: "加厚纸张不透墨|可拆卸活页|平摊书写|学生办公通用"},
		}},
	}},
	{name: "家用电器", mids: []midDef{
		{name: "厨房电器", leaves: []leafDef{
			{name: "咖啡机", weight: 2, price: [2]int64{29900, 999900}, nouns: "咖啡机|全自动咖啡机|意式咖啡机|胶囊咖啡机",
				brands: "德龙:ECAM22.110/EC685/Dinamica;飞利浦:EP2124/EP3146;Nespresso:Vertuo Pop/Essenza Mini;小熊:KFJ-A02N1;柏翠:PE3690;雀巢:多趣酷思 Genio S",
				specs:  []specDef{{name: "颜色", values: "黑色|白色|银色|红色"}},
				points: "一键现磨|15Bar 萃取压力|蒸汽奶泡，拉花入门|可拆洗冲泡组件|意式美式都能做"},
			{name: "电饭煲", price: [2]int64{19900, 199900}, nouns: "电饭煲|IH 电饭煲|智能电饭煲",
				brands: "美的;苏泊尔;九阳;象印;米家", series: "鲜稻香|柴火饭|远红外|IH 精品",
				specs:  []specDef{{name: "容量", values: "3L|4L|5L", step: 15}},
				points: "IH 立体加热|24 小时预约|多种烹饪模式|不粘内胆|一键煮粥煲汤"},
			{name: "空气炸锅", price: [2]int64{19900, 99900}, nouns: "空气炸锅|可视空气炸锅",
				brands: "美的;小熊;九阳;飞利浦;摩飞", series: "可视款|双层款|大容量款|智能款",
				specs:  []specDef{{name: "容量", values: "4.5L|5.5L|6.5L", step: 12}, {name: "颜色", values: "白色|黑色|奶油色"}},
				points: "免翻面热风循环|少油更健康|可视窗口|可拆洗炸篮|智能菜单"},
			{name: "破壁机", price: [2]int64{19900, 199900}, nouns: "破壁机|料理机|豆浆机",
				brands: "九阳;美的;苏泊尔;摩飞;东菱", series: "静音款|免洗款|轻音款|多功能款",
				specs: []specDef{edition}, points: "降噪静音|自动清洗|预约热饮|豆浆米糊果汁|八叶刀头"},
			{name: "电水壶", price: [2]int64{6900, 49900}, nouns: "电水壶|恒温水壶|烧水壶",
				brands: "小米;美的;苏泊尔;北鼎;九阳", series: "恒温款|304 不锈钢|玻璃款|保温款",
				specs: []specDef{{name: "容量", values: "1.5L|1.7L", step: 10}, darkLight}, points: "快速烧水|防干烧|双层防烫|智能恒温"},
		}},
		{name: "生活电器", leaves: []leafDef{
			{name: "吸尘器", price: [2]int64{99900, 699900}, nouns: "吸尘器|无线吸尘器|扫地机器人|洗地机",
				brands: "戴森:V12/V15 Detect;追觅:V12/H12 Pro;石头:G20/A20;科沃斯:T20/X2;米家:无线吸尘器 2",
				specs:  []specDef{edition}, points: "强劲吸力|激光探测灰尘|自动集尘|60 分钟续航|宠物毛发不缠绕"},
			{name: "电风扇", price: [2]int64{9900, 99900}, nouns: "电风扇|落地扇|循环扇|塔扇",
				brands: "美的;艾美特;格力;米家;先锋", series: "直流变频|静音款|遥控款|智能款",
				specs: []specDef{{name: "版本", values: "机械款|遥控款|智能 APP 款", step: 25}}, points: "直流变频省电|静音睡眠风|摇头送风|定时关机"},
			{name: "加湿器", price: [2]int64{9900, 69900}, nouns: "加湿器|空气加湿器|无雾加湿器",
				brands: "美的;小米;亚都;352;德尔玛", series: "上加水|大容量|静音款|智能恒湿",
				specs: []specDef{{name: "容量", values: "3L|4L|5L", step: 10}, darkLight}, points: "上加水方便|静音夜灯|银离子抗菌|智能恒湿"},
			{name: "空气净化器", price: [2]int64{69900, 499900}, nouns: "空气净化器|除甲醛净化器",
				brands: "小米;352;飞利浦;霍尼韦尔;IQAir", series: "4 Pro|X83|AC3033|KJ700", specs: []specDef{edition},
				points: "高效除甲醛|除菌除过敏原|实时空气质量显示|睡眠静音"},
		}},
		{name: "个护电器", leaves: []leafDef{
			{name: "电动牙刷", price: [2]int64{9900, 199900}, nouns: "电动牙刷|声波电动牙刷",
				brands: "飞利浦:钻石亮白/HX6730;欧乐B:iO9/Pro4;小米:T500/T700;usmile:Y10/P10",
				specs:  []specDef{plainColor, {name: "套装", values: "单支装|含替换刷头", step: 20}}, points: "声波高频清洁|压力感应|两分钟智能计时|60 天续航"},
			{name: "吹风机", price: [2]int64{9900, 399900}, nouns: "吹风机|高速吹风机|负离子吹风机",
				brands: "戴森:HD15/HD08;徕芬:SE/LF03;松下:NA9C/EH-WNE5;飞利浦:BHD399", specs: []specDef{{name: "颜色", values: "紫红色|星云灰|白色|粉色"}},
				points: "高速马达速干|负离子护发|智能温控不伤发|低噪音"},
			{name: "剃须刀", price: [2]int64{9900, 299900}, nouns: "电动剃须刀|剃须刀",
				brands: "飞利浦:S7000/S5000;博朗:9系/7系;松下:ES-LT8B;米家:S700", specs: []specDef{edition},
				points: "全身水洗|浮动刀头贴合|一小时快充|干湿双剃"},
		}},
	}},
	{name: "服饰内衣", mids: []midDef{
		{name: "女装", leaves: []leafDef{
			{name: "连衣裙", weight: 3, price: [2]int64{9900, 99900}, nouns: "连衣裙|碎花连衣裙|针织连衣裙|法式连衣裙|衬衫连衣裙",
				brands: "优衣库;ONLY;VERO MODA;太平鸟;伊芙丽;Ur;茵曼", series: "2024夏季新款|法式复古|通勤气质|收腰显瘦|宽松休闲|度假风",
				specs: []specDef{clothColor, womenSize}, points: "收腰显瘦|透气不闷热|垂感面料|可机洗|通勤约会都能穿"},
			{name: "卫衣", price: [2]int64{7900, 49900}, nouns: "卫衣|连帽卫衣|圆领卫衣",
				brands: "优衣库;ONLY;太平鸟;Ur;李宁", series: "宽松落肩|加绒加厚|简约纯色|印花款",
				specs: []specDef{clothColor, womenSize}, points: "纯棉亲肤|加绒保暖|宽松百搭|不起球"},
			{name: "针织衫", price: [2]int64{9900, 69900}, nouns: "针织开衫|毛衣|针织衫",
				brands: "优衣库;VERO MODA;伊芙丽;茵曼;鄂尔多斯", series: "羊毛混纺|温柔风|短款|V 领",
				specs: []specDef{clothColor, womenSize}, points: "柔软不扎|保暖轻薄|百搭内搭|不易变形"},
		}},
		{name: "男装", leaves: []leafDef{
			{name: "T恤", weight: 2, price: [2]int64{3900, 29900}, nouns: "T恤|短袖T恤|纯棉T恤|POLO衫",
				brands: "优衣库;海澜之家;森马;杰克琼斯;太平鸟男装;李宁", series: "重磅纯棉|宽松圆领|冰丝速干|简约纯色|印花款",
				specs: []specDef{clothColor, menSize}, points: "重磅纯棉不透|领口不变形|吸汗透气|多色可选"},
			{name: "衬衫", price: [2]int64{9900, 59900}, nouns: "衬衫|长袖衬衫|免烫衬衫|牛津纺衬衫",
				brands: "优衣库;海澜之家;雅戈尔;杰克琼斯;七匹狼", series: "商务免烫|修身款|休闲款|条纹款",
				specs: []specDef{{name: "颜色", values: "白色|浅蓝|粉色|条纹蓝|黑色"}, menSize}, points: "免烫抗皱|商务休闲两穿|修身版型|纯棉面料"},
			{name: "牛仔裤", price: [2]int64{9900, 79900}, nouns: "牛仔裤|直筒牛仔裤|修身牛仔裤",
				brands: "Levi's:501/511/502;优衣库;杰克琼斯;森马;GAP", series: "直筒款|小脚款|宽松款|弹力款",
				specs:  []specDef{{name: "颜色", values: "深蓝|浅蓝|黑色|灰色"}, {name: "尺码", values: "28|29|30|31|32|33|34|36"}},
				points: "弹力舒适|经典五袋款|不掉色|四季可穿"},
		}},
		{name: "内衣家居", leaves: []leafDef{
			{name: "睡衣", price: [2]int64{5900, 39900}, nouns: "睡衣套装|家居服|睡裙",
				brands: "优衣库;都市丽人;猫人;红豆;ubras", series: "纯棉款|冰丝款|珊瑚绒|莫代尔",
				specs: []specDef{{name: "颜色", values: "浅粉|燕麦色|雾蓝|灰色|藏青"}, womenSize}, points: "亲肤柔软|宽松不勒|可外穿|四季款"},
			{name: "袜子", price: [2]int64{1990, 9900}, nouns: "袜子|棉袜|船袜|中筒袜",
				brands: "优衣库;南极人;浪莎;猫人;恒源祥", series: "精梳棉|抗菌款|运动款|隐形款",
				specs: []specDef{{name: "颜色", values: "混色|黑色|白色|灰色"}, {name: "规格", values: "5双装|10双装", step: 80}}, points: "吸汗防臭|不掉跟|精梳棉|四季可穿"},
			{name: "内裤", price: [2]int64{2990, 19900}, nouns: "内裤|男士内裤|女士内裤",
				brands: "优衣库;南极人;猫人;ubras;CK", series: "莫代尔|纯棉抗菌|无痕款|冰丝款",
				specs: []specDef{{name: "规格", values: "3条装|4条装|6条装", step: 40}, menSize}, points: "抗菌裆|无痕不勒|透气|3A 抗菌"},
		}},
	}},
	{name: "鞋靴箱包", mids: []midDef{
		{name: "女鞋", leaves: []leafDef{
			{name: "单鞋", price: [2]int64{9900, 69900}, nouns: "单鞋|乐福鞋|玛丽珍鞋|高跟鞋",
				brands: "百丽;他她;红蜻蜓;思加图;达芙妮", series: "尖头款|方头款|软底款|通勤款",
				specs: []specDef{{name: "颜色", values: "黑色|米白|杏色|酒红"}, womenShoe}, points: "软底舒适|不磨脚|百搭通勤|真皮鞋面"},
			{name: "小白鞋", price: [2]int64{9900, 59900}, nouns: "小白鞋|板鞋|帆布鞋",
				brands: "回力;飞跃;匡威;万斯;斯凯奇", series: "经典款|厚底款|低帮款|高帮款",
				specs: []specDef{{name: "颜色", values: "白色|黑白|米白|白绿"}, womenShoe}, points: "百搭不挑人|增高厚底|防滑耐磨|轻便透气"},
		}},
		{name: "男鞋", leaves: []leafDef{
			{name: "休闲鞋", price: [2]int64{9900, 79900}, nouns: "休闲鞋|板鞋|健步鞋",
				brands: "骆驼;斯凯奇;回力;奥康;Clarks", series: "轻便款|透气款|软底款|复古款",
				specs: []specDef{{name: "颜色", values: "黑色|白色|卡其|灰色"}, menShoe}, points: "轻便透气|缓震耐磨|防滑大底|一脚蹬"},
			{name: "皮鞋", price: [2]int64{19900, 99900}, nouns: "皮鞋|商务皮鞋|德比鞋",
				brands: "奥康;红蜻蜓;森达;金利来;Clarks", series: "商务正装|英伦款|软底款|系带款",
				specs: []specDef{{name: "颜色", values: "黑色|棕色"}, menShoe}, points: "头层牛皮|软底不累脚|商务百搭|防滑耐磨"},
		}},
		{name: "箱包", leaves: []leafDef{
			{name: "双肩包", price: [2]int64{9900, 69900}, nouns: "双肩包|电脑包|通勤背包",
				brands: "新秀丽;小米:90分 城市背包/极简背包;外交官;瑞士军刀;北面", series: "通勤款|大容量|轻便款|防泼水",
				specs: []specDef{{name: "颜色", values: "黑色|灰色|藏青"}}, points: "可放 15.6 英寸电脑|防泼水面料|减压背带|多隔层收纳"},
			{name: "行李箱", price: [2]int64{19900, 299900}, nouns: "行李箱|拉杆箱|登机箱",
				brands: "新秀丽;小米:90分 旅行箱/铝框箱;外交官;美旅;地平线8号", series: "铝框款|拉链款|前开口|PC 款",
				specs:  []specDef{{name: "尺寸", values: "20英寸|24英寸|28英寸", step: 18}, {name: "颜色", values: "黑色|银色|蓝色|粉色"}},
				points: "静音万向轮|TSA 海关锁|轻量耐摔|可登机"},
		}},
	}},
	{name: "食品饮料", mids: []midDef{
		{name: "休闲零食", leaves: []leafDef{
			{name: "坚果炒货", price: [2]int64{1990, 9900}, nouns: "每日坚果|坚果零食|夏威夷果|碧根果|开心果",
				brands: "三只松鼠;良品铺子;百草味;洽洽;沃隆", series: "混合装|原味|盐焗|奶油味",
				specs:  []specDef{{name: "口味", values: "原味|奶油味|盐焗|焦糖"}, {name: "规格", values: "250g|500g|750g", step: 50}},
				points: "颗颗饱满|独立小包装|办公室零食|新鲜烘焙"},
			{name: "零食大礼包", weight: 2, price: [2]int64{990, 9900}, nouns: "零食大礼包|休闲零食|网红零食|零食礼盒",
				brands: "三只松鼠;良品铺子;百草味;盐津铺子;卫龙", series: "追剧必备|年货|办公室|儿童|辣味",
				specs: []specDef{{name: "规格", values: "小份装|标准装|豪华装", step: 70}}, points: "多种口味一次尝遍|送礼自吃两相宜|独立包装|解馋不重样"},
			{name: "饼干糕点", price: [2]int64{990, 6990}, nouns: "饼干|曲奇|蛋黄酥|零食糕点",
				brands: "奥利奥;好丽友;达利园;嘉顿;三只松鼠", series: "夹心款|早餐款|分享装|经典款",
				specs:  []specDef{{name: "口味", values: "原味|巧克力|草莓|抹茶|咸蛋黄"}, {name: "规格", values: "单盒装|3盒装", step: 120}},
				points: "酥脆可口|早餐下午茶|小包装方便携带|甜而不腻"},
			{name: "肉干肉脯", price: [2]int64{990, 9900}, nouns: "牛肉干|猪肉脯|肉干零食|风干牛肉",
				brands: "科尔沁;三只松鼠;良品铺子;百草味;棒棒娃", series: "手撕款|风干款|独立包装|高蛋白",
				specs: []specDef{snackFlavor, {name: "规格", values: "100g|250g|500g", step: 60}}, points: "高蛋白解馋|肉质紧实|追剧零食|真材实料"},
		}},
		{name: "咖啡茶饮", leaves: []leafDef{
			{name: "速溶咖啡", weight: 2, price: [2]int64{1990, 19900}, nouns: "速溶咖啡|冻干咖啡|三合一咖啡|咖啡",
				brands: "雀巢:1+2 原味/金牌/醇品/丝滑拿铁;三顿半:超即溶/数字星球;永璞:闪萃/冷萃;星巴克:精品速溶;瑞幸:冻干",
				specs:  []specDef{{name: "口味", values: "原味|拿铁|美式|摩卡|低糖"}, {name: "规格", values: "10条装|30条装|48条装", step: 60}},
				points: "冷水速溶|0 糖 0 脂可选|提神醒脑|办公室必备|醇香浓郁"},
			{name: "咖啡豆", price: [2]int64{2990, 19900}, nouns: "咖啡豆|挂耳咖啡|咖啡粉",
				brands: "星巴克;Manner;瑞幸;隅田川;雀巢", series: "意式拼配|耶加雪菲|哥伦比亚|曼特宁|深烘拼配",
				specs:  []specDef{{name: "烘焙度", values: "浅烘|中烘|深烘"}, {name: "规格", values: "250g|500g|1kg", step: 70}},
				points: "新鲜烘焙|阿拉比卡豆|可代磨|风味层次丰富"},
			{name: "茶叶", price: [2]int64{3990, 99900}, nouns: "绿茶|乌龙茶|普洱茶|红茶|茶叶",
				brands: "八马;小罐茶;竹叶青;大益;张一元", series: "明前特级|浓香型|清香型|金骏眉|熟普",
				specs:  []specDef{{name: "规格", values: "50g|100g|250g", step: 80}, {name: "包装", values: "罐装|礼盒装", step: 20}},
				points: "原产地直采|口粮茶|送礼佳品|回甘持久"},
		}},
		{name: "饮料冲调", leaves: []leafDef{
			{name: "牛奶", price: [2]int64{2990, 12900}, nouns: "纯牛奶|低脂牛奶|酸奶|早餐奶",
				brands: "伊利;蒙牛;特仑苏;光明;认养一头牛", series: "全脂|低脂|A2 蛋白|有机",
				specs: []specDef{{name: "规格", values: "250ml×12盒|250ml×24盒", step: 80}}, points: "3.6g 优质乳蛋白|整箱囤货|营养早餐|原生高钙"},
			{name: "饮用水", price: [2]int64{1990, 9900}, nouns: "矿泉水|气泡水|茶饮料|饮用水",
				brands: "农夫山泉;元气森林;怡宝;百岁山;东方树叶", series: "原味|白桃味|青柠味|茉莉花茶|无糖",
				specs: []specDef{{name: "规格", values: "12瓶|24瓶", step: 80}}, points: "0 糖 0 卡|天然水源|整箱送货上门|冰镇更好喝"},
		}},
		{name: "粮油调味", leaves: []leafDef{
			{name: "大米", price: [2]int64{2990, 19900}, nouns: "大米|东北大米|五常大米",
				brands: "金龙鱼;福临门;十月稻田;柴火大院", series: "稻花香|长粒香|珍珠米|新米",
				specs: []specDef{{name: "规格", values: "2.5kg|5kg|10kg", step: 70}}, points: "当季新米|软糯香甜|真空包装|产地直发"},
			{name: "食用油", price: [2]int64{2990, 29900}, nouns: "花生油|菜籽油|橄榄油|食用油",
				brands: "金龙鱼;鲁花;福临门;欧丽薇兰", series: "压榨一级|特香|家庭装|物理压榨",
				specs: []specDef{{name: "规格", values: "1.8L|5L", step: 120}}, points: "物理压榨|浓香醇正|家庭炒菜|非转基因"},
			{name: "调味品", price: [2]int64{990, 5990}, nouns: "酱油|香醋|蚝油|调味料",
				brands: "海天;李锦记;千禾;恒顺;厨邦", series: "零添加|特级|薄盐|经典",
				specs: []specDef{{name: "规格", values: "500ml|1L|1.8L", step: 50}}, points: "酿造工艺|零添加|提鲜增香|家常必备"},
		}},
	}},
	{name: "美妆个护", mids: []midDef{
		{name: "面部护肤", leaves: []leafDef{
			{name: "面霜", price: [2]int64{9900, 199900}, nouns: "面霜|保湿面霜|修护面霜",
				brands: "兰蔻:菁纯/塑颜;雅诗兰黛:多效智妍;珀莱雅:红宝石;薇诺娜:舒敏;欧莱雅:紫熨斗",
				specs:  []specDef{creamVolume}, points: "深层保湿|修护屏障|淡化细纹|清爽不油腻|敏感肌可用"},
			{name: "精华", price: [2]int64{9900, 299900}, nouns: "精华液|抗老精华|美白精华",
				brands: "雅诗兰黛:小棕瓶;兰蔻:小黑瓶;SK-II:神仙水;珀莱雅:双抗;欧莱雅:黑精华",
				specs:  []specDef{creamVolume}, points: "修护熬夜肌|提亮肤色|抗初老|吸收快"},
			{name: "面膜", price: [2]int64{2990, 19900}, nouns: "面膜|补水面膜|贴片面膜",
				brands: "一叶子;百雀羚;可复美;膜法世家;敷尔佳", series: "补水|修护|亮肤|舒缓",
				specs: []specDef{{name: "规格", values: "5片装|10片装|20片装", step: 70}}, points: "急救补水|精华满满|服帖不掉|敏感肌适用"},
		}},
		{name: "彩妆香水", leaves: []leafDef{
			{name: "口红", price: [2]int64{5900, 49900}, nouns: "口红|唇釉|唇膏",
				brands: "迪奥:烈艳蓝金;圣罗兰:小金条;阿玛尼:红管;完美日记:小细跟;花西子:雕花;MAC:子弹头",
				specs:  []specDef{{name: "色号", values: "#999 正红色|#888 枫叶红|#520 番茄红|#316 豆沙色|#03 烂番茄"}},
				points: "显白不挑皮|丝绒哑光|持久不沾杯|滋润不拔干"},
			{name: "粉底液", price: [2]int64{9900, 69900}, nouns: "粉底液|气垫 BB 霜|遮瑕粉底",
				brands: "雅诗兰黛:DW;阿玛尼:权力;花西子:玉养;毛戈平:光感;兰蔻:持妆",
				specs:  []specDef{{name: "色号", values: "1C0 象牙白|1W1 暖白|2C0 自然色|2W1 小麦色"}}, points: "持妆控油|轻薄服帖|遮瑕力强|干皮油皮可选"},
			{name: "香水", price: [2]int64{29900, 199900}, nouns: "香水|淡香水|淡香精",
				brands: "香奈儿:可可小姐/邂逅;迪奥:真我/花漾甜心;祖玛珑:蓝风铃/英国梨;爱马仕:大地",
				specs:  []specDef{{name: "容量", values: "30ml|50ml|100ml", step: 45}}, points: "留香持久|节日送礼|专柜正品|附赠礼袋"},
		}},
		{name: "洗护清洁", leaves: []leafDef{
			{name: "洗发水", price: [2]int64{2990, 19900}, nouns: "洗发水|去屑洗发水|洗发露",
				brands: "海飞丝;潘婷;沙宣;阿道夫;清扬", series: "去屑止痒|控油蓬松|修护柔顺|氨基酸",
				specs: []specDef{{name: "规格", values: "400ml|750ml|1L", step: 40}}, points: "去屑止痒|控油蓬松|香味持久|温和不刺激"},
			{name: "沐浴露", price: [2]int64{1990, 12900}, nouns: "沐浴露|香氛沐浴露",
				brands: "多芬;舒肤佳;力士;六神;海洋至尊", series: "滋润|清爽|香氛|除菌",
				specs: []specDef{{name: "规格", values: "400ml|720ml|1L", step: 40}}, points: "持久留香|温和清洁|滋润不紧绷|全家可用"},
			{name: "牙膏", price: [2]int64{990, 9900}, nouns: "牙膏|美白牙膏|清新口气牙膏",
				brands: "云南白药;高露洁;佳洁士;舒适达;冷酸灵", series: "薄荷|美白|抗敏|护龈",
				specs: []specDef{{name: "规格", values: "120g|3支装", step: 150}}, points: "清新口气|亮白牙齿|抗敏护龈|全家装"},
		}},
	}},
	{name: "母婴玩具", mids: []midDef{
		{name: "奶粉辅食", leaves: []leafDef{
			{name: "婴儿奶粉", price: [2]int64{19900, 79900}, nouns: "婴儿奶粉|幼儿配方奶粉",
				brands: "飞鹤:星飞帆/臻稚;美赞臣:蓝臻;爱他美:卓萃;伊利:金领冠;君乐宝:优萃",
				specs:  []specDef{{name: "段数", values: "1段|2段|3段"}, {name: "规格", values: "800g|800g×2罐", step: 95}}, points: "亲和配方|乳铁蛋白|易吸收|国行正品"},
			{name: "婴儿辅食", price: [2]int64{2990, 9900}, nouns: "婴儿米粉|宝宝辅食|磨牙棒",
				brands: "嘉宝;亨氏;小皮;英氏;秋田满满", series: "高铁|原味|果蔬|有机",
				specs: []specDef{{name: "规格", values: "单罐|两罐", step: 90}}, points: "高铁配方|无添加白砂糖|细腻易冲|6 月龄以上"},
		}},
		{name: "尿裤湿巾", leaves: []leafDef{
			{name: "纸尿裤", price: [2]int64{5990, 29900}, nouns: "纸尿裤|拉拉裤|尿不湿",
				brands: "帮宝适:一级帮/黑金帮;花王:妙而舒;好奇:心钻装/铂金装;大王:光羽", specs: []specDef{{name: "尺码", values: "NB|S|M|L|XL|XXL"}, {name: "包装", values: "单包|箱装", step: 150}},
				points: "干爽透气|不红屁屁|超薄|夜用不漏"},
			{name: "湿巾", price: [2]int64{1990, 9900}, nouns: "婴儿湿巾|手口湿巾|湿纸巾",
				brands: "全棉时代;好奇;贝亲;维达;心相印", series: "手口专用|加厚款|便携装|无香",
				specs: []specDef{{name: "规格", values: "80抽×3包|80抽×10包", step: 200}}, points: "纯水配方|加厚不易破|手口可用|无酒精"},
		}},
		{name: "玩具乐器", leaves: []leafDef{
			{name: "积木", price: [2]int64{5900, 159900}, nouns: "积木|拼装积木|大颗粒积木",
				brands: "乐高:城市系列/机械组/得宝/好朋友;布鲁可:大颗粒;森宝:航天系列",
				specs:  []specDef{{name: "套装", values: "基础款|进阶款|豪华款", step: 60}}, points: "锻炼动手能力|亲子互动|安全环保材质|生日礼物"},
			{name: "毛绒玩具", price: [2]int64{3990, 39900}, nouns: "毛绒玩具|玩偶|公仔",
				brands: "迪士尼;Jellycat;名创优品;泡泡玛特;三丽鸥", series: "兔子|小熊|恐龙|草莓熊|玉桂狗",
				specs: []specDef{{name: "尺寸", values: "20cm|30cm|45cm", step: 40}}, points: "柔软亲肤|可机洗|送女友送孩子|高颜值"},
			{name: "益智玩具", price: [2]int64{3990, 29900}, nouns: "益智玩具|拼图|早教机",
				brands: "火火兔;可优比;费雪;贝恩施;澳贝", series: "早教款|认知款|磁力款|音乐款",
				specs: []specDef{{name: "适用年龄", values: "0-1岁|1-3岁|3-6岁"}}, points: "寓教于乐|圆角安全|色彩认知|亲子陪伴"},
		}},
		{name: "童装童鞋", leaves: []leafDef{
			{name: "童装", price: [2]int64{3990, 29900}, nouns: "儿童T恤|童装套装|儿童卫衣|儿童外套",
				brands: "巴拉巴拉;安奈儿;优衣库;小猪班纳;英氏", series: "纯棉款|卡通款|运动款|学院风",
				specs: []specDef{{name: "颜色", values: "红色|蓝色|黄色|粉色|白色"}, kidsSize}, points: "A 类婴幼儿标准|纯棉亲肤|宽松好动|可机洗"},
		}},
	}},
	{name: "运动户外", mids: []midDef{
		{name: "运动鞋服", leaves: []leafDef{
			{name: "跑步鞋", weight: 2, price: [2]int64{19900, 159900}, nouns: "跑步鞋|运动鞋|缓震跑鞋",
				brands: "耐克:Pegasus 40/Vomero 17/Air Zoom;阿迪达斯:Ultraboost/Adizero;李宁:超轻 21/赤兔 6;安踏:C202/马赫 4;特步:160X",
				specs:  []specDef{{name: "颜色", values: "黑白|全黑|灰蓝|荧光绿"}, menShoe}, points: "回弹缓震|轻量透气|防滑耐磨|马拉松训练"},
			{name: "运动服", price: [2]int64{4990, 49900}, nouns: "运动T恤|速干衣|运动裤|运动套装",
				brands: "耐克;阿迪达斯;李宁;安踏;迪卡侬", series: "速干款|训练款|跑步款|瑜伽款",
				specs: []specDef{{name: "颜色", values: "黑色|白色|灰色|藏青"}, menSize}, points: "快干排汗|弹力舒适|反光条夜跑安全|健身跑步通用"},
		}},
		{name: "健身训练", leaves: []leafDef{
			{name: "瑜伽垫", price: [2]int64{2990, 69900}, nouns: "瑜伽垫|健身垫",
				brands: "Keep;迪卡侬;李宁;Lululemon;奥义", series: "加宽款|TPE 款|天然橡胶|防滑款",
				specs: []specDef{{name: "厚度", values: "6mm|8mm|10mm", step: 10}, {name: "颜色", values: "紫色|蓝色|粉色|黑色"}}, points: "双面防滑|回弹好|无异味|附送收纳绑带"},
			{name: "哑铃", price: [2]int64{2990, 99900}, nouns: "哑铃|可调节哑铃|壶铃",
				brands: "迪卡侬;Keep;李宁;舒华", series: "包胶款|可调节|电镀款|六角款",
				specs: []specDef{{name: "重量", values: "5kg|10kg|20kg", step: 60}}, points: "包胶防滑|静音护地|快速调节|家用健身"},
			{name: "跑步机", price: [2]int64{99900, 699900}, nouns: "跑步机|走步机|家用跑步机",
				brands: "小米:金史密斯 R1/金史密斯 A50;舒华:E9/A9;麦瑞克:M1", specs: []specDef{edition},
				points: "可折叠免安装|静音减震|APP 智能课程|家用小巧"},
		}},
		{name: "户外装备", leaves: []leafDef{
			{name: "帐篷", price: [2]int64{9900, 199900}, nouns: "帐篷|露营帐篷|自动帐篷|天幕",
				brands: "牧高笛;骆驼;迪卡侬;挪客;探路者", series: "速开款|防暴雨|轻量款|屋脊款",
				specs: []specDef{{name: "规格", values: "2人|3-4人|5-8人", step: 50}}, points: "免搭建速开|防雨防晒|通风透气|收纳小巧"},
			{name: "冲锋衣", price: [2]int64{29900, 599900}, nouns: "冲锋衣|三合一冲锋衣|户外夹克",
				brands: "始祖鸟:Beta LT/Atom;北面:1990;凯乐石:MONT-X;骆驼;探路者", specs: []specDef{{name: "颜色", values: "黑色|蓝色|红色|军绿"}, menSize},
				points: "防水透气|防风保暖|可拆卸内胆|登山徒步"},
			{name: "登山包", price: [2]int64{9900, 129900}, nouns: "登山包|徒步背包|户外背包",
				brands: "小鹰;始祖鸟;骆驼;迪卡侬;北面", series: "轻量款|专业款|大容量|防雨款",
				specs: []specDef{{name: "容量", values: "30L|40L|50L", step: 20}, {name: "颜色", values: "黑色|灰色|橙色"}}, points: "背负系统透气|附防雨罩|多点调节|轻量化"},
		}},
	}},
	{name: "家居家装", mids: []midDef{
		{name: "床上用品", leaves: []leafDef{
			{name: "四件套", price: [2]int64{9900, 159900}, nouns: "四件套|纯棉四件套|床上四件套",
				brands: "罗莱;水星家纺;富安娜;无印良品;网易严选", series: "全棉|长绒棉|天丝|水洗棉|简约风",
				specs: []specDef{bedSize, {name: "花色", values: "素色灰|奶油白|雾霾蓝|小碎花"}}, points: "A 类母婴级|亲肤透气|不起球|越洗越软"},
			{name: "枕头", price: [2]int64{3990, 49900}, nouns: "枕头|乳胶枕|记忆棉枕头",
				brands: "8H;网易严选;富安娜;水星家纺;无印良品", series: "护颈款|低枕|高回弹|酒店款",
				specs: []specDef{{name: "规格", values: "单只装|一对装", step: 90}}, points: "护颈助眠|高回弹|可拆洗枕套|抑菌防螨"},
			{name: "被子", price: [2]int64{19900, 199900}, nouns: "被子|蚕丝被|羽绒被|夏凉被",
				brands: "罗莱;水星家纺;富安娜;恒源祥;博洋", series: "春秋被|冬被|子母被|空调被",
				specs: []specDef{bedSize}, points: "蓬松保暖|透气不闷|可机洗|A 类面料"},
		}},
		{name: "厨房用具", leaves: []leafDef{
			{name: "炒锅", price: [2]int64{9900, 99900}, nouns: "炒锅|不粘锅|铁锅",
				brands: "苏泊尔;爱仕达;双立人;炊大皇;康宁", series: "不粘款|精铁款|钛合金|蜂窝款",
				specs: []specDef{{name: "尺寸", values: "28cm|30cm|32cm", step: 10}}, points: "少油烟|不粘易清洗|燃气电磁炉通用|不易生锈"},
			{name: "保温杯", price: [2]int64{4990, 29900}, nouns: "保温杯|保温壶|不锈钢水杯",
				brands: "象印;膳魔师;虎牌;富光;哈尔斯", series: "一键开盖|弹跳盖|大容量|便携款",
				specs: []specDef{{name: "容量", values: "350ml|500ml|750ml", step: 15}, {name: "颜色", values: "黑色|白色|粉色|蓝色"}}, points: "12 小时保温|316 不锈钢内胆|一键开盖|防漏设计"},
			{name: "刀具", price: [2]int64{3990, 99900}, nouns: "菜刀|刀具套装|水果刀",
				brands: "双立人;张小泉;十八子作;WMF", series: "家用款|锻打款|套装款|不锈钢",
				specs: []specDef{{name: "套装", values: "单刀|三件套|五件套", step: 60}}, points: "锋利耐用|不易生锈|防滑手柄|切片切菜"},
		}},
		{name: "收纳清洁", leaves: []leafDef{
			{name: "收纳箱", price: [2]int64{1990, 19900}, nouns: "收纳箱|收纳盒|整理箱",
				brands: "禧天龙;茶花;天马;百露;无印良品", series: "透明款|折叠款|带轮款|加厚款",
				specs: []specDef{{name: "规格", values: "小号|中号|大号", step: 40}, {name: "数量", values: "单个|3个装", step: 150}}, points: "透明可视|可叠加|防尘防潮|衣柜收纳"},
			{name: "拖把", price: [2]int64{2990, 19900}, nouns: "拖把|平板拖把|旋转拖把",
				brands: "美丽雅;妙洁;3M 思高;懒角落;家杰", series: "免手洗|旋转款|刮刮乐|平板款",
				specs: []specDef{{name: "套装", values: "拖把+2块布|拖把+4块布", step: 25}}, points: "免手洗|干湿两用|360° 旋转|可拆洗"},
		}},
		{name: "灯具照明", leaves: []leafDef{
			{name: "台灯", price: [2]int64{9900, 199900}, nouns: "台灯|护眼台灯|LED 台灯",
				brands: "明基;飞利浦;松下;米家;欧普", series: "国 AA 级|学习款|落地款|智能款",
				specs: []specDef{{name: "版本", values: "标准款|智能款", step: 40}, {name: "颜色", values: "白色|黑色"}}, points: "国 AA 级照度|无频闪|无蓝光危害|学生写作业"},
			{name: "吸顶灯", price: [2]int64{19900, 199900}, nouns: "吸顶灯|LED 吸顶灯|客厅灯",
				brands: "欧普;雷士;飞利浦;松下;米家", series: "简约款|全光谱|智能款|奶油风",
				specs: []specDef{{name: "尺寸", values: "卧室 50cm|书房 60cm|客厅 90cm", step: 40}}, points: "三色调光|智能遥控|高显色|安装简单"},
		}},
	}},
}
